"""Benchmarks: our system measured side by side with its floor in the same run. Not tests."""
