"""Write src/apiforge/_completion.py: the command and option names the entry point
completes without importing the CLI (see that module).

Run it after changing a command, an option or a template question, then run the tests:

    uv run python scripts/write_completion_table.py
"""

from __future__ import annotations

from pathlib import Path

from apiforge.cli.completion_table import completion_table_module


def main() -> None:
    target = Path(__file__).resolve().parents[1] / "src" / "apiforge" / "_completion.py"
    target.write_text(completion_table_module(), encoding="utf-8")
    print(target)


if __name__ == "__main__":
    main()
