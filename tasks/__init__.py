"""Prefect tasks: thin wrappers over the plain functions in baocao/pipeline.py (tested without
Prefect). Each task opens the process's warehouse connection from the settings it is given."""
