"""Command and option names for shell completion, answered by the entry point.

Written by scripts/write_completion_table.py from the CLI (with the bundled
template's questions); tests hold it equal to what Typer completes.
"""

COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("new", "Generate a new FastAPI service in PATH."),
        ("update", "Bring a project up to this apiforge's..."),
        ("check", "Say whether a project is on this..."),
        ("verify", "Prove that every combination of a..."),
        ("add", "Add to a generated project."),
        ("remove", "Remove from a generated project."),
    ),
    "add": (
        ("resource", "Add a resource: model, migration, schemas,..."),
        ("field", "Add fields to a resource, with a new..."),
    ),
    "remove": (("resource", "Remove a resource's code, with a new..."),),
}

OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("--verbose", "Show tracebacks and the output of every step."),
        ("--version", "Show the version and exit."),
        ("--install-completion", "Install completion for the current shell."),
        (
            "--show-completion",
            "Show completion for the current shell, to copy it or customize the installation.",
        ),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "add": (("-h", "Show this message and exit."), ("--help", "Show this message and exit.")),
    "add field": (
        (
            "--field",
            "A field as NAME:TYPE[:LENGTH][:MODIFIER...], as for add resource (repeatable).",
        ),
        ("-f", "A field as NAME:TYPE[:LENGTH][:MODIFIER...], as for add resource (repeatable)."),
        ("--path", "The project (default: the current folder)."),
        ("-p", "The project (default: the current folder)."),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "add resource": (
        ("--field", "A field as NAME:TYPE[:LENGTH][:MODIFIER...] (repeatable; see below)."),
        ("-f", "A field as NAME:TYPE[:LENGTH][:MODIFIER...] (repeatable; see below)."),
        (
            "--owned",
            "Rows belong to the user who creates them; nobody else can see or change them.",
        ),
        ("--plural", "The plural, when the English rules get it wrong (default: derived)."),
        ("--path", "The project (default: the current folder)."),
        ("-p", "The project (default: the current folder)."),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "check": (
        ("--json", "Print one JSON object instead of text."),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "new": (
        ("--yes", "Take the defaults for every unanswered question."),
        ("-y", "Take the defaults for every unanswered question."),
        ("--data", "Answer a question (repeatable)."),
        ("-d", "Answer a question (repeatable)."),
        ("--data-file", "Read answers from a YAML file."),
        ("--name", ""),
        ("--description", ""),
        ("--python", ""),
        ("--database", ""),
        (
            "--template",
            "Use another template (a folder or a git URL, e.g. your fork of apiforge's).",
        ),
        ("-t", "Use another template (a folder or a git URL, e.g. your fork of apiforge's)."),
        ("--git", "Initialise git and make a first commit."),
        ("--no-git", "Initialise git and make a first commit."),
        ("--install", "Run `uv sync` after generating."),
        ("--no-install", "Run `uv sync` after generating."),
        ("--dry-run", "List the files it would write; write nothing."),
        ("--quiet", "Print nothing but errors (for scripts)."),
        ("-q", "Print nothing but errors (for scripts)."),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "remove": (("-h", "Show this message and exit."), ("--help", "Show this message and exit.")),
    "remove resource": (
        ("--path", "The project (default: the current folder)."),
        ("-p", "The project (default: the current folder)."),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "update": (
        ("--data", "Change an answer (repeatable)."),
        ("-d", "Change an answer (repeatable)."),
        ("--preview", "List what would happen to each file; change nothing."),
        ("--undo", "Put the project back exactly as it was before the last update."),
        (
            "--adopt",
            "Give a project made with --no-git (committed to git since) the template "
            "branch updates merge from.",
        ),
        ("--yes", "With --undo: undo even when it takes away migrations (no question asked)."),
        ("-y", "With --undo: undo even when it takes away migrations (no question asked)."),
        (
            "--drift-check",
            "After merging, run the migrations on a scratch database and `alembic check`.",
        ),
        (
            "--no-drift-check",
            "After merging, run the migrations on a scratch database and `alembic check`.",
        ),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
    "verify": (
        ("--template", "Template to verify: a folder or a git URL (default: apiforge's own)."),
        ("-t", "Template to verify: a folder or a git URL (default: apiforge's own)."),
        ("--matrix", "Defaults only, every pair of answers, or every combination."),
        ("-m", "Defaults only, every pair of answers, or every combination."),
        ("--data", "Answer a question in every combination (repeatable)."),
        ("-d", "Answer a question in every combination (repeatable)."),
        ("--jobs", "Combinations to verify at once."),
        ("-j", "Combinations to verify at once."),
        ("--report", "Write a report: JUnit XML for *.xml, Markdown for *.md, JSON otherwise."),
        ("--keep", "Keep the generated projects and print where."),
        ("--ref", "Verify the template at this commit or tag of its repository."),
        ("--shard", "Run the K-th of N shares of the matrix (for a CI job matrix)."),
        ("--strict", "Fail a combination that cannot run here (Python or PostgreSQL missing)."),
        ("--list", "List the combinations (of the shard) with their ids; run nothing."),
        ("--json", "With --list: print JSON."),
        (
            "--from",
            "Generate each combination with this earlier commit or tag of the "
            "template, add a resource, update to the template, then run the gates.",
        ),
        ("-h", "Show this message and exit."),
        ("--help", "Show this message and exit."),
    ),
}
