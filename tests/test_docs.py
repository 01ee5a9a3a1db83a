"""The README documents what the code does: every question and every option."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from apiforge.cli import app
from apiforge.docs import questions_markdown
from apiforge.template import bundled_template_dir, load_questions

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_question_as_copier_yml_defines_it() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- questions:start[^>]*-->\n(.*?)\n<!-- questions:end -->", text, re.S)
    assert match is not None, "README.md lost its questions table markers"
    expected = questions_markdown(load_questions(bundled_template_dir()))
    assert match.group(1) == expected, f"Replace the README's questions table with:\n{expected}"


def test_new_help_lists_every_question() -> None:
    result = CliRunner().invoke(app, ["new", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for question in load_questions(bundled_template_dir()):
        if question.asked and not question.managed:
            assert question.name in result.output
        elif question.managed:  # kept by its own command, never answered by hand
            assert f"\n  {question.name} " not in result.output


def test_readme_documents_every_option_of_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    runner = CliRunner()
    missing = []
    for command in (
        "new",
        "update",
        "check",
        "verify",
        "add resource",
        "add field",
        "remove resource",
    ):
        result = runner.invoke(app, [*command.split(), "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        options = result.output.split("Options:", 1)[1]
        for line in options.splitlines():
            match = re.match(r"\s+(?:-\w, )?(--[a-z][a-z-]*)(?: / (--[a-z-]+))?", line)
            if match is None or match.group(1) == "--help":
                continue
            if not any(f"`{form}" in text for form in match.groups() if form):
                missing.append(f"{command} {match.group(1)}")
    assert missing == []
