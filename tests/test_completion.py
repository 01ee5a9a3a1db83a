"""Shell completion: the entry point answers command and option names from a stored
table, exactly as Typer would, and leaves everything else to Typer."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from apiforge import _completion
from apiforge.__main__ import _fast_completion
from apiforge.cli import app
from apiforge.cli.completion_table import completion_table

SHELLS = ["bash", "zsh", "fish get-args", "fish is-args", "powershell"]
INCOMPLETE = ["", "-", "--", "--h", "-h", "--v", "n", "re", "zz"]


def _sorted(items: dict[str, tuple[tuple[str, str], ...]]) -> dict[str, list[tuple[str, str]]]:
    # Click keeps `-h` and `--help` in a set: their order changes between interpreters.
    return {path: sorted(entries) for path, entries in items.items()}


def test_the_stored_table_is_what_typer_completes() -> None:
    # When this fails, run `uv run python scripts/write_completion_table.py`.
    commands, options = completion_table()

    assert _sorted(_completion.COMMANDS) == _sorted(commands)
    assert _sorted(_completion.OPTIONS) == _sorted(options)


def _environment(shell: str, words: list[str], incomplete: str) -> dict[str, str]:
    name, _, action = shell.partition(" ")
    line = " ".join(["apiforge", *words, incomplete])
    env = {"_APIFORGE_COMPLETE": f"complete_{name}"}
    if name == "bash":
        env |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words) + 1)}
    else:
        env["_TYPER_COMPLETE_ARGS"] = line
    if name == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = action
    if name == "powershell":
        env["_TYPER_COMPLETE_WORD_TO_COMPLETE"] = incomplete
    return env


def _words(output: str) -> list[str]:
    # Typer's Rich renderer wraps a long help text at 80 columns, which breaks the item in
    # two lines for the shell; the entry point keeps one item per line. So the outputs are
    # compared word by word; in any order, as Click keeps `-h` and `--help` in a set.
    # zsh gets the items in one `_arguments` call: its brackets are left out of the words.
    listed = output.replace("_arguments '*: :((", "").replace("))'", "")
    return sorted(listed.split())


def _typer(env: dict[str, str]) -> tuple[list[str], int]:
    result = CliRunner().invoke(app, [], env=env, prog_name="apiforge")
    return _words(result.stdout), result.exit_code


@pytest.mark.parametrize("shell", SHELLS)
def test_the_entry_point_completes_names_as_typer_does(
    shell: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = 0
    for path in _completion.OPTIONS:
        words = path.split()
        for incomplete in INCOMPLETE:
            env = _environment(shell, words, incomplete)
            for key in ("COMP_WORDS", "COMP_CWORD", "_TYPER_COMPLETE_ARGS"):
                monkeypatch.delenv(key, raising=False)
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            fast = _fast_completion("apiforge")
            if fast is None:
                continue
            answered += 1
            output, status = fast
            assert (_words(output), status) == _typer(env), (path, incomplete)
            if shell != "zsh" and output.strip():
                assert len(output.splitlines()) == len(_matching(path, incomplete))
    # Group names and every command's options are answered here, not left to Typer.
    assert answered >= len(_completion.OPTIONS) * 5


def _matching(path: str, incomplete: str) -> list[tuple[str, str]]:
    table = _completion.OPTIONS if incomplete.startswith("-") else _completion.COMMANDS
    return [item for item in table[path] if item[0].startswith(incomplete)]


@pytest.mark.parametrize(
    ("words", "incomplete"),
    [
        (["new"], ""),  # the PATH argument: files
        (["verify", "--matrix"], ""),  # an option's value
        (["--verbose"], "ne"),  # an option before the command
        (["new"], "--data="),
        (["new"], "'--y"),
    ],
)
def test_values_arguments_and_quoting_are_left_to_typer(
    words: list[str], incomplete: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in _environment("zsh", words, incomplete).items():
        monkeypatch.setenv(key, value)

    assert _fast_completion("apiforge") is None


def test_other_programs_and_script_requests_are_left_to_typer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in _environment("bash", [], "").items():
        monkeypatch.setenv(key, value)
    assert _fast_completion("python") is None

    monkeypatch.setenv("_APIFORGE_COMPLETE", "source_bash")
    assert _fast_completion("apiforge") is None


def test_completing_a_command_name_imports_neither_typer_nor_the_cli() -> None:
    code = (
        "import sys\nsys.argv = ['apiforge']\nfrom apiforge.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('typer', 'click', 'apiforge.cli') if m in sys.modules))"
    )
    env = os.environ | _environment("bash", ["add"], "re")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )

    assert result.stdout.splitlines() == ["resource", "[]"]
