"""`apiforge --help`, answered by the entry point without importing the CLI.

Typer and the command modules take most of apiforge's start-up, and the top-level help
never changes between runs: it is this text, which tests/test_cli.py holds equal to
what Typer prints (on a terminal at least 80 columns wide, where Typer's help does not
wrap differently). After changing a command's name or first help line, paste the new
`apiforge --help` output here.
"""

TOP_LEVEL_HELP = """\
Usage: apiforge [OPTIONS] COMMAND [ARGS]...

  Scaffold production-grade FastAPI services and keep them current.

Options:
  --verbose             Show tracebacks and the output of every step.
  --version             Show the version and exit.
  --install-completion  Install completion for the current shell.
  --show-completion     Show completion for the current shell, to copy it or
                        customize the installation.
  -h, --help            Show this message and exit.

Commands:
  new     Generate a new FastAPI service in PATH.
  update  Bring a project up to this apiforge's template, keeping your...
  check   Say whether a project is on this apiforge's template version.
  verify  Prove that every combination of a template's answers passes its...
  add     Add to a generated project.
  remove  Remove from a generated project.
"""
