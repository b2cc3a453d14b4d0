"""Prefect tasks: thin wrappers over the plain functions of `baocao.services` (tested without
Prefect). Each task is handed the flow run's `baocao.resources.Resources`."""
