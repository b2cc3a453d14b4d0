"""National-scale benchmark of the reporting cycle (`make bench`, `python -m bench.run`); see README.md."""
