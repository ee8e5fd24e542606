"""Implementations of the outside systems' ports that are more than our own tables, chosen by settings in
``worker.py``: over HTTP where a real protocol exists (the SMS gateway, NCANode), and the local test CA that
stands in for the National Certification Authority (EDS issuing, CMS signing and verification).

Each HTTP module implements one port of ``activities/`` (structurally: the ``typing.Protocol`` there). A failure
is an ``ApplicationError``: retryable while the system is down (connection refused, timeouts, HTTP
408/425/429/5xx), non-retryable when it refuses the request for good (other 4xx), which blocks the case visibly
(``CaseWorkflow.outside``).
"""
