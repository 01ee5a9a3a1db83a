"""Answers given on the command line: parsing `KEY=VALUE`, answers files, types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from apiforge.errors import UsageError
from apiforge.template_source import MANAGED_ANSWERS, Question

__all__ = ["check_answers", "managed_defaults", "parse_data", "read_data_file"]

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


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


def _cast(question: Question, value: Any) -> Any:
    if question.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise UsageError(f"{question.name} takes true or false, got {value!r}.")
    if question.type in {"int", "float"}:
        kind = int if question.type == "int" else float
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise UsageError(f"{question.name} takes a number, got {value!r}.") from None
    if question.type in {"str", "path"}:
        return str(value)
    return value


def check_answers(questions: Iterable[Question], data: Mapping[str, Any]) -> dict[str, Any]:
    """Check answers against a template's questions and cast them to their types.

    Unknown keys and values outside a question's choices are usage errors whose
    message lists what is valid.
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
        cast = _cast(question, value)
        if question.choices and str(cast) not in question.choices:
            raise UsageError(f"{key} must be one of {', '.join(question.choices)}; got {value!r}.")
        checked[key] = cast
    return checked


def managed_defaults(questions: Iterable[Question]) -> dict[str, Any]:
    """The defaults of the managed answers a template has, so they are never asked."""
    return {
        question.name: question.default
        for question in questions
        if question.managed and question.asked
    }
