"""Prefect flows: thin tables of contents over tasks/. No SQL, no branching on data."""
