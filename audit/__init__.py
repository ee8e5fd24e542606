"""Auditors' tools: export and replay of case histories, the compliance report, the administrative case."""
