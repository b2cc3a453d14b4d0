"""The `baocao` command line: `cli.app` (the typer app, the console script), `cli.serve` (watch
and the `serve` supervisor), `cli.procs` (the processes serve starts), `cli.summary` (console
tables). Commands are thin: they build the resources and call `baocao.services` or a flow."""
