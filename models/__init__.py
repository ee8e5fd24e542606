"""Pydantic models: workflow inputs, events, query results, activity inputs (tables live in ``models.tables``)."""
