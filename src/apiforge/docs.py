"""How a template's questions read in `apiforge new --help` and in the README.

Both list the questions users answer (see :attr:`Question.offered`) as copier.yml
defines them, so a new question needs no change here or in the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable

from apiforge.template import Question

__all__ = ["describe_default", "question_rows", "questions_markdown"]


def describe_default(question: Question) -> str:
    """How a question's default reads in help and docs."""
    if question.name == "project_name":
        return "the folder's name"
    default = question.default
    if default is None or default == "":
        return "none"
    if isinstance(default, bool):
        return "yes" if default else "no"
    text = str(default)
    return "derived" if "{{" in text else text


def question_rows(questions: Iterable[Question]) -> list[tuple[str, str]]:
    """The questions users answer as `apiforge new --help` lists them: each name, with
    its help, choices and default."""
    rows = []
    for question in questions:
        if not question.offered:
            continue
        details = [question.help]
        if question.choices:
            details.append(f"choices: {', '.join(question.choices)}")
        details.append(f"default: {describe_default(question)}")
        rows.append((question.name, "; ".join(details)))
    return rows


def questions_markdown(questions: Iterable[Question]) -> str:
    """The Markdown table of the questions users answer, as the README shows it."""
    lines = [
        "| question | choices | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for question in questions:
        if not question.offered:
            continue
        choices = ", ".join(f"`{choice}`" for choice in question.choices)
        default = describe_default(question)
        shown = (
            f"`{default}`"
            if question.choices or default not in {"none", "the folder's name"}
            else default
        )
        lines.append(f"| `{question.name}` | {choices} | {shown} | {question.help} |")
    return "\n".join(lines)
