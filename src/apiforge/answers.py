"""Answers given on the command line: parsing `KEY=VALUE`, answers files, types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from apiforge.errors import UsageError
from apiforge.template import MANAGED_ANSWERS, Question, cast_answer

__all__ = ["check_answers", "parse_data", "read_data_file"]


def parse_data(pairs: Iterable[str]) -> dict[str, str]:
    """Turn `KEY=VALUE` strings into a dict; a pair without '=' is a usage error."""
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--data expects KEY=VALUE, got {pair!r}.")
        data[key] = value
    return data


def read_data_file(path: Path) -> dict[str, Any]:
    """Read answers from a YAML (or JSON) file holding one mapping."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read the answers file {path}: {exc.strerror}.") from exc
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"The answers file {path} is not valid YAML ({first}).") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UsageError(f"The answers file {path} must hold a mapping of KEY: VALUE.")
    return {str(key): value for key, value in loaded.items() if not str(key).startswith("_")}


def check_answers(questions: Iterable[Question], data: Mapping[str, Any]) -> dict[str, Any]:
    """Check answers against a template's questions and cast them to their types.

    Values are cast as copier casts them (:func:`apiforge.template.cast_answer`), except
    that a yes/no answer copier would read only through Python's bool() ("maybe") is
    refused. Unknown keys and values outside a question's choices are usage errors
    whose message lists what is valid.
    """
    by_name = {question.name: question for question in questions if question.asked}
    for key in data:
        if key in by_name and by_name[key].managed:
            raise UsageError(
                f"{key} is managed by `{MANAGED_ANSWERS[key]}`; it cannot be given as an answer."
            )
    unknown = sorted(set(data) - set(by_name))
    if unknown:
        valid = ", ".join(sorted(set(by_name) - set(MANAGED_ANSWERS)))
        raise UsageError(f"Unknown answer {', '.join(unknown)}; valid keys are: {valid}.")
    checked: dict[str, Any] = {}
    for key, value in data.items():
        question = by_name[key]
        try:
            cast = cast_answer(question, value, strict=True)
        except (TypeError, ValueError):
            wanted = "true or false" if question.type == "bool" else "a number"
            raise UsageError(f"{key} takes {wanted}, got {value!r}.") from None
        if question.choices and str(cast) not in question.choices:
            raise UsageError(f"{key} must be one of {', '.join(question.choices)}; got {value!r}.")
        checked[key] = cast
    return checked
