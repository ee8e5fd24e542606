"""Plumbing shared by the worker, the starter, the API and the audit tool: settings, client, database."""
