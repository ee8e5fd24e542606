"""The back-office command line behind ``starter.py``: one module per procedure plus the shared commands."""
