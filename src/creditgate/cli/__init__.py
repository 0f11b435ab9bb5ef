"""The `creditgate` command line: Typer commands over the same engine calls as the library."""
