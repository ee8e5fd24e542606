"""Activities: one module per system the workflows call.

An outside system's module holds its port (a small ``typing.Protocol``), the local implementation on our own
tables, and the activity class that takes the port (``SmsActivities(gateway)``); ``worker.py`` builds one
instance per class from settings (HTTP implementations live in ``adapters/``). The case's own machinery
(deadlines, registration, hearing windows, documents, complaints' calls to Temporal) are plain functions.
"""
