"""The HTTP API for operator systems and the back-office console (``api.app:app``)."""
