"""Answer matrices over a template's questions, for `apiforge verify`.

The axes of a matrix are the template's choice and yes/no questions; free-text
questions keep their defaults. A question whose `when:` is false for some
answers is no axis for those answers, and a combination that one of the
template's validators refuses is kept as *invalid*, with the validator's
message, so that it can be reported as skipped.

`when:`, `default:` and `validator:` are Jinja, rendered in the template's
environment and cast as copier does (see :mod:`apiforge.template`); Jinja is
imported only when a matrix is built.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from apiforge.errors import UsageError
from apiforge.template import Question, cast_answer, template_environment, truthy

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "MATRIX_KINDS",
    "MAX_COMBINATIONS",
    "Axis",
    "Combination",
    "Matrix",
    "build_matrix",
]

MATRIX_KINDS = ("default", "pairwise", "full")
"""`default`: the defaults only; `pairwise`: every pair of values of any two axes;
`full`: every combination."""

MAX_COMBINATIONS = 100_000
"""More combinations than this are refused: pin some answers with `--data`."""


@dataclass(frozen=True)
class Axis:
    """A question whose answers the matrix varies, with its values in order."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Combination:
    """One set of answers to render and verify."""

    index: int
    """Position in the matrix, from 1."""
    answers: Mapping[str, Any]
    """The axes' answers, in question order (axes whose `when:` is false left out)."""
    data: Mapping[str, Any]
    """What is passed to the template: these answers plus the ones pinned by `--data`."""
    context: Mapping[str, Any] = field(repr=False, compare=False)
    """Every answer as the template sees it, defaults included."""
    invalid: str | None = None
    """The message of the template's validator that refuses this combination."""

    @property
    def label(self) -> str:
        """``database=postgresql python_version=3.12``, or ``defaults``."""
        return " ".join(f"{key}={format_value(value)}" for key, value in self.answers.items()) or (
            "defaults"
        )

    @property
    def id(self) -> str:
        """A short, stable name: ``c01``."""
        return f"c{self.index:02d}"


@dataclass(frozen=True)
class Matrix:
    """The combinations to verify, in order."""

    kind: str
    axes: tuple[Axis, ...]
    pinned: Mapping[str, Any]
    combinations: tuple[Combination, ...]

    @property
    def valid(self) -> tuple[Combination, ...]:
        return tuple(item for item in self.combinations if item.invalid is None)

    @property
    def invalid(self) -> tuple[Combination, ...]:
        return tuple(item for item in self.combinations if item.invalid is not None)


def format_value(value: Any) -> str:
    """An answer as `--data` would take it: ``true``/``false`` for yes/no answers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- copier.yml's Jinja and values ------------------------------------------------


class _Renderer:
    """Renders copier.yml's Jinja strings, compiling each one once."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._compiled: dict[str, Any] = {}

    def render(self, value: Any, context: Mapping[str, Any]) -> Any:
        if not isinstance(value, str):
            if isinstance(value, list):
                return [self.render(item, context) for item in value]
            return value
        template = self._compiled.get(value)
        if template is None:
            template = self._compiled[value] = self.env.from_string(value)
        return template.render(dict(context))


def _cast(question: Question, value: Any) -> Any:
    """Cast a value of copier.yml (a rendered default, a choice) to the question's type."""
    try:
        return cast_answer(question, value)
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"copier.yml: {question.name} has a value of the wrong type: {exc}."
        ) from exc


# --- The questions as axes ------------------------------------------------------


def _is_axis(question: Question) -> bool:
    if not question.asked or question.multiselect:
        return False
    return bool(question.options) or question.type == "bool"


class _Walker:
    """Walks the questions in order, as copier asks them, for each set of axis values."""

    def __init__(
        self,
        questions: Sequence[Question],
        renderer: _Renderer,
        pinned: Mapping[str, Any],
        vary: bool,
    ) -> None:
        self.questions = list(questions)
        self.renderer = renderer
        self.pinned = pinned
        self.vary = vary
        self.choices = {
            q.name: [replace(option, value=_cast(q, option.value)) for option in q.options]
            for q in self.questions
            if _is_axis(q)
        }

    def axes(self) -> tuple[Axis, ...]:
        return tuple(
            Axis(question.name, self._values(question))
            for question in self.questions
            if question.name in self.choices and question.name not in self.pinned
        )

    def _values(self, question: Question) -> tuple[Any, ...]:
        if question.type == "bool" and not self.choices[question.name]:
            return (False, True) if question.default is False else (True, False)
        return tuple(choice.value for choice in self.choices[question.name])

    def _evaluate(
        self, what: str, question: Question, value: Any, context: Mapping[str, Any]
    ) -> Any:
        try:
            return self.renderer.render(value, context)
        except Exception as exc:
            raise UsageError(
                f"copier.yml: the {what} of {question.name} cannot be evaluated: {exc}."
            ) from exc

    def _default(self, question: Question, context: Mapping[str, Any]) -> Any:
        rendered = self._evaluate("default", question, question.default, context)
        return _cast(question, rendered)

    def _refusal(self, question: Question, value: Any, context: Mapping[str, Any]) -> str | None:
        """The validator's message for *value*, or None when the template accepts it."""
        checks = [question.validator]
        for choice in self.choices.get(question.name, ()):
            if choice.value == value:
                checks.append(choice.validator)
        for check in checks:
            if not check:
                continue
            try:
                message = str(self.renderer.render(check, context)).strip()
            except Exception as exc:
                message = str(exc)
            if message:
                return " ".join(f"{question.name}: {message}".split())
        return None

    def walk(self) -> Iterator[tuple[dict[str, Any], dict[str, Any], str | None]]:
        """Yield (axis answers, context, refusal) for every combination, in order."""
        yield from self._walk(0, {}, {})

    def _walk(
        self, position: int, context: dict[str, Any], answers: dict[str, Any]
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any], str | None]]:
        if position == len(self.questions):
            yield answers, context, None
            return
        question = self.questions[position]
        active = truthy(self._evaluate("when", question, question.when, context))
        axis = active and question.name in self.choices and question.name not in self.pinned
        if question.name in self.pinned:
            values: Sequence[Any] = (self.pinned[question.name],)
        elif axis and self.vary:
            values = self._values(question)
        else:
            default = self._default(question, context)
            if axis and default not in self._values(question):
                default = self._values(question)[0]
            values = (default,)
        for value in values:
            inner = {**context, question.name: value}
            shown = {**answers, question.name: value} if axis else answers
            refusal = self._refusal(question, value, inner) if active else None
            if refusal is not None:
                yield shown, inner, refusal
                continue
            yield from self._walk(position + 1, inner, shown)


# --- Matrices -------------------------------------------------------------------


def build_matrix(
    questions: Sequence[Question],
    kind: str = "default",
    *,
    data: Mapping[str, Any] | None = None,
    env: Environment | None = None,
) -> Matrix:
    """The combinations of *kind* for a template's *questions*.

    *data* pins answers (already checked and cast, as by
    :func:`apiforge.answers.check_answers`): a pinned axis takes that value in
    every combination. *env* renders the Jinja in copier.yml (default:
    :func:`apiforge.template.template_environment` without settings).
    """
    if kind not in MATRIX_KINDS:
        raise UsageError(f"--matrix must be one of {', '.join(MATRIX_KINDS)}; got {kind!r}.")
    pinned = dict(data or {})
    renderer = _Renderer(env if env is not None else template_environment())
    varied = _Walker(questions, renderer, pinned, vary=True)
    axes = varied.axes()
    defaults = next(_Walker(questions, renderer, pinned, vary=False).walk())
    if kind == "default":
        rows = [defaults]
    else:
        rows = list(itertools.islice(varied.walk(), MAX_COMBINATIONS + 1))
        if len(rows) > MAX_COMBINATIONS:
            raise UsageError(
                f"The template allows more than {MAX_COMBINATIONS} combinations; "
                "pin some answers with --data."
            )
        if kind == "pairwise":
            default_row = next(
                (n for n, row in enumerate(rows) if row[0] == defaults[0] and row[2] is None), None
            )
            rows = [rows[n] for n in _all_pairs(rows, default_row)]
    combinations = tuple(
        Combination(
            index=number,
            answers=answers,
            data={**pinned, **answers},
            context=context,
            invalid=refusal,
        )
        for number, (answers, context, refusal) in enumerate(rows, start=1)
    )
    return Matrix(kind=kind, axes=axes, pinned=pinned, combinations=combinations)


def _all_pairs(
    rows: Sequence[tuple[dict[str, Any], dict[str, Any], str | None]], first: int | None
) -> list[int]:
    """Pick few rows that hold every pair of values of two axes that any valid row holds.

    Greedy set cover, deterministic: start from the defaults, then repeatedly take
    the row covering the most uncovered pairs (the earliest one on ties). Single
    values count too, so a matrix with one axis still covers each value. Pairs
    that only invalid rows hold are covered by invalid rows, so that the report
    says which pairs the template refuses.
    """
    ids: dict[tuple[str, str], int] = {}
    covers: list[frozenset[Any]] = []
    for answers, _context, _refusal in rows:
        items = sorted(
            ids.setdefault((key, repr(value)), len(ids)) for key, value in answers.items()
        )
        covers.append(frozenset([*items, *itertools.combinations(items, 2)]))
    valid = [n for n, row in enumerate(rows) if row[2] is None]
    invalid = [n for n, row in enumerate(rows) if row[2] is not None]
    chosen: list[int] = []

    def cover(candidates: list[int], wanted: set[Any]) -> None:
        if first is not None and first in candidates and first not in chosen:
            chosen.append(first)
            wanted -= covers[first]
        while wanted and candidates:
            best = max(candidates, key=lambda n: (len(covers[n] & wanted), -n))
            if not covers[best] & wanted:
                break
            chosen.append(best)
            wanted -= covers[best]

    reachable: set[Any] = set().union(*(covers[n] for n in valid))
    cover(valid, set(reachable))
    refused: set[Any] = set().union(*(covers[n] for n in invalid)) - reachable
    cover(invalid, refused)
    return sorted(chosen)
