"""Reports of `apiforge verify` for CI systems: JUnit XML or JSON.

JUnit XML has one testsuite per combination and one testcase per step (render,
then each gate); a failed step's message is the tail of its output, and steps
that did not run are skipped with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from apiforge import __version__
from apiforge.errors import UserError
from apiforge.gates import GateResult
from apiforge.matrix import format_value
from apiforge.verify import CombinationResult, Status, VerifyResult

__all__ = ["json_report", "junit_xml", "markdown_summary", "tail", "write_report"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def tail(text: str, lines: int = 40) -> str:
    """The last *lines* lines of *text*, without terminal colour codes."""
    kept = _ANSI.sub("", text).rstrip().splitlines()[-lines:]
    return "\n".join(kept)


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("?", _ANSI.sub("", text))


def _step_status(result: CombinationResult, name: str) -> tuple[str, GateResult | None]:
    for step in result.steps:
        if step.name == name:
            return ("passed" if step.ok else "failed"), step
    return "skipped", None


def _skip_reason(result: CombinationResult) -> str:
    if result.status is Status.INVALID:
        return f"invalid combination: {result.reason}"
    if result.status is Status.SKIPPED:
        return f"skipped: {result.reason}"
    failed = result.failed_step
    return f"not run: {failed.name} failed" if failed else "not run"


def junit_xml(result: VerifyResult) -> str:
    """The result as JUnit XML, as CI systems read test reports."""
    root = ElementTree.Element("testsuites", name="apiforge verify")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for outcome in result.results:
        combination = outcome.combination
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=f"{combination.id} {combination.label}",
            time=f"{outcome.seconds:.3f}",
        )
        properties = ElementTree.SubElement(suite, "properties")
        for key, value in combination.data.items():
            ElementTree.SubElement(
                properties, "property", name=key, value=_xml_text(format_value(value))
            )
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for name in result.steps:
            status, step = _step_status(outcome, name)
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"apiforge.verify.{combination.id}",
                name=name,
                time=f"{step.seconds:.3f}" if step else "0",
            )
            counts["tests"] += 1
            if outcome.status is Status.FAILED and not outcome.steps and name == result.steps[0]:
                # It could not run here and --strict made that a failure.
                counts["failures"] += 1
                reason = _xml_text(outcome.reason)
                ElementTree.SubElement(case, "failure", message=reason, type="strict").text = reason
            elif status == "failed" and step is not None:
                counts["failures"] += 1
                failure = ElementTree.SubElement(
                    case, "failure", message=_xml_text(tail(step.output, 5)), type=name
                )
                failure.text = _xml_text(tail(step.output, 200))
            elif status == "skipped":
                counts["skipped"] += 1
                ElementTree.SubElement(case, "skipped", message=_xml_text(_skip_reason(outcome)))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    root.set("time", f"{result.seconds:.3f}")
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _json_data(result: VerifyResult) -> dict[str, Any]:
    combinations = []
    for outcome in result.results:
        steps = []
        for name in result.steps:
            status, step = _step_status(outcome, name)
            steps.append(
                {
                    "name": name,
                    "status": status,
                    "seconds": round(step.seconds, 3) if step else 0,
                    "command": step.command if step else "",
                    "output": tail(step.output, 200) if step else "",
                }
            )
        combinations.append(
            {
                "id": outcome.combination.id,
                "label": outcome.combination.label,
                "answers": dict(outcome.combination.answers),
                "data": dict(outcome.combination.data),
                "status": outcome.status.value,
                "reason": outcome.reason,
                "seconds": round(outcome.seconds, 3),
                "steps": steps,
            }
        )
    return {
        "tool": f"apiforge {__version__}",
        "template": result.template,
        "matrix": result.matrix.kind,
        "ok": result.ok,
        "seconds": round(result.seconds, 3),
        "counts": {status.value: result.count(status) for status in Status},
        "steps": list(result.steps),
        "combinations": combinations,
    }


def json_report(result: VerifyResult) -> str:
    """The result as JSON: counts, then each combination with its steps."""
    return json.dumps(_json_data(result), indent=2, default=str) + "\n"


_MARKS = {"passed": "✓", "failed": "✗", "skipped": "\N{EN DASH}"}


def markdown_summary(result: VerifyResult) -> str:
    """The result as a Markdown table: one row per combination, each step's mark and
    time; for a CI's job summary (``$GITHUB_STEP_SUMMARY``) or a pull request."""
    counts = ", ".join(f"{result.count(status)} {status.value}" for status in Status)
    lines = [
        f"### apiforge verify: {result.template}",
        "",
        f"{result.matrix.kind} matrix, {len(result.results)} combinations: {counts}, "
        f"in {result.seconds:.0f} s.",
        "",
        "| id | combination | " + " | ".join(result.steps) + " |",
        "| --- | --- | " + " | ".join("---" for _ in result.steps) + " |",
    ]
    for outcome in result.results:
        cells = []
        for name in result.steps:
            status, step = _step_status(outcome, name)
            cells.append(f"{_MARKS[status]} {step.seconds:.0f} s" if step else _MARKS[status])
        label = outcome.combination.label.replace("|", "\\|")
        if outcome.reason:
            label += f" ({outcome.status.value}: {outcome.reason})".replace("|", "\\|")
        lines.append(f"| {outcome.combination.id} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(result: VerifyResult, path: Path, *, append: bool = False) -> None:
    """Write JUnit XML when *path* ends in `.xml`, Markdown for `.md`, JSON otherwise;
    with *append*, add to the file (as to ``$GITHUB_STEP_SUMMARY``)."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        text = junit_xml(result)
    elif suffix == ".md" or append:
        text = markdown_summary(result)
    else:
        text = json_report(result)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise UserError(f"Cannot write the report {path}: {exc.strerror or exc}.") from exc
