"""Production implementations of the outside systems' ports over HTTP, chosen by settings in ``worker.py``.

Each module implements one port of ``activities/`` (structurally: the ``typing.Protocol`` there) for a
system with a real protocol. A failure is an ``ApplicationError``: retryable while the system is down
(connection refused, timeouts, HTTP 408/425/429/5xx), non-retryable when it refuses the request for good
(other 4xx), which blocks the case visibly (``CaseWorkflow.outside``).
"""
