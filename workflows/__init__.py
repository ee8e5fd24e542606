"""Workflows: one module per procedure, plus the shared deadline helper and search attribute registry."""
