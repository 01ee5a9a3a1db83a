"""`apiforge verify` on tiny fake templates whose gates are quick Python commands.

The real gates (uv, pytest, ruff, mypy, alembic) run on the shipped template in
test_generated.py; here the gates are stand-ins, so that exit codes, the table,
failure output, reports, skipping and clean-up are checked in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from helpers import IN_CI, SMALL_COPIER_YML
from typer.testing import CliRunner

from apiforge.cli import app
from apiforge.gates import Gate
from apiforge.pgserver import find_pg_bin
from apiforge.verify import Status, VerifyOptions, verify

runner = CliRunner()

FAKE_GATES = (
    Gate("tests", ((sys.executable, "-c", "import app; print('imported', app.FLAVOUR)"),)),
    Gate("lint", ((sys.executable, "-m", "py_compile", "app.py"),)),
)

BROKEN = {
    "app.py.jinja": (
        'FLAVOUR = "{{ flavour }}"\n{% if flavour == "spicy" %}def broken(:\n    pass\n{% endif %}'
    )
}

MakeTemplate = Callable[..., Path]


@pytest.fixture(autouse=True)
def fake_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("apiforge.gates.GATES", FAKE_GATES)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder verify works in, to prove it is left empty."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["verify", *args])
    return result.exit_code, result.output


def test_a_green_template_passes_and_shows_the_table(
    fake_template: MakeTemplate, scratch: Path
) -> None:
    code, output = _verify("--template", str(fake_template()), "--matrix", "full")
    assert code == 0, output
    assert "full matrix, 4 combinations" in output
    for header in ("flavour", "ci", "render", "tests", "lint"):
        assert header in output
    assert "✓" in output
    assert "3 passed, 0 failed, 1 invalid" in output
    # The combination the template refuses is reported with the validator's message.
    assert "invalid 4 flavour=spicy ci=gitlab: ci: GitLab runners cannot take the heat." in output
    assert list(scratch.iterdir()) == []


def test_a_broken_file_fails_naming_the_combination_and_the_gate(
    fake_template: MakeTemplate, scratch: Path
) -> None:
    code, output = _verify("--template", str(fake_template(BROKEN)), "--matrix", "pairwise")
    assert code == 1, output
    assert "flavour=spicy ci=github: tests failed" in output
    assert "SyntaxError" in output
    assert "1 failed" in output
    assert list(scratch.iterdir()) == []


def test_the_same_failure_is_shown_once(fake_template: MakeTemplate) -> None:
    template = fake_template({"app.py.jinja": "def broken(:\n"})
    code, output = _verify("--template", str(template), "--matrix", "full")
    assert code == 1
    assert output.count("SyntaxError") == 1
    assert "2 flavour=plain ci=gitlab: tests failed, with the same output as 1." in output
    assert "3 flavour=spicy ci=github: tests failed, with the same output as 1." in output


def test_a_broken_jinja_file_fails_at_render(fake_template: MakeTemplate) -> None:
    template = fake_template({"app.py.jinja": "FLAVOUR = {% if %}\n"})
    code, output = _verify("--template", str(template))
    assert code == 1, output
    assert "flavour=plain ci=github: render failed" in output
    assert "TemplateSyntaxError" in output


def test_junit_report_for_ci(fake_template: MakeTemplate, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "verify.xml"
    code, output = _verify(
        "--template", str(fake_template(BROKEN)), "-m", "full", "--report", str(report)
    )
    assert code == 1
    assert f"Report written to {report}" in output.replace("\n", "")
    root = ElementTree.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("12", "1")
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [
        "c01 flavour=plain ci=github",
        "c02 flavour=plain ci=gitlab",
        "c03 flavour=spicy ci=github",
        "c04 flavour=spicy ci=gitlab",
    ]
    assert [case.get("name") for case in suites[2].findall("testcase")] == [
        "render",
        "tests",
        "lint",
    ]
    failure = suites[2].find("testcase[@name='tests']/failure")
    assert failure is not None
    assert "SyntaxError" in (failure.get("message") or "")
    assert "SyntaxError" in (failure.text or "")
    lint_skipped = suites[2].find("testcase[@name='lint']/skipped")
    assert lint_skipped is not None
    assert lint_skipped.get("message") == "not run: tests failed"
    invalid = suites[3].find("testcase[@name='render']/skipped")
    assert invalid is not None
    assert "GitLab runners" in (invalid.get("message") or "")


def test_json_report(fake_template: MakeTemplate, tmp_path: Path) -> None:
    report = tmp_path / "verify.json"
    code, _ = _verify("--template", str(fake_template()), "--report", str(report))
    assert code == 0
    data = json.loads(report.read_text())
    assert data["ok"] is True
    assert data["matrix"] == "default"
    assert data["counts"]["passed"] == 1
    [combination] = data["combinations"]
    assert combination["answers"] == {"flavour": "plain", "ci": "github"}
    assert [step["status"] for step in combination["steps"]] == ["passed"] * 3
    assert "imported plain" in combination["steps"][1]["output"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "colour=red"], "valid keys are"),
        (["--data", "flavour=sour"], "must be one of plain, spicy"),
        (["--data", "novalue"], "KEY=VALUE"),
        (["--matrix", "everything"], "default, pairwise, full"),
        (["--jobs", "0"], "--jobs"),
    ],
)
def test_bad_usage_exits_2(
    fake_template: MakeTemplate, scratch: Path, args: list[str], message: str
) -> None:
    code, output = _verify("--template", str(fake_template()), *args)
    assert code == 2, output
    assert message in output
    assert list(scratch.iterdir()) == []


def test_unreadable_templates_exit_2(tmp_path: Path) -> None:
    code, output = _verify("--template", str(tmp_path / "missing"))
    assert code == 2
    assert "neither a folder nor a git URL" in output
    code, output = _verify("--template", str(tmp_path))
    assert code == 2
    assert "has no copier.yml" in output
    code, output = _verify("--template", f"file://{tmp_path}/no-such-repo.git")
    assert code == 2
    assert "Cannot clone the template" in output


def test_data_pins_an_answer_in_every_combination(fake_template: MakeTemplate) -> None:
    code, output = _verify(
        "--template", str(fake_template()), "-m", "full", "-d", "flavour=spicy", "-j", "2"
    )
    assert code == 0, output
    assert "full matrix, 2 combinations (flavour=spicy)" in output
    assert "1 passed, 0 failed, 1 invalid" in output


def test_keep_leaves_the_projects(fake_template: MakeTemplate, scratch: Path) -> None:
    code, output = _verify("--template", str(fake_template()), "--keep")
    assert code == 0, output
    [kept] = scratch.iterdir()
    assert f"Projects kept in {kept}" in output.replace("\n", "")
    assert (kept / "c01" / "demo" / "app.py").read_text().startswith('FLAVOUR = "plain"')


def test_a_missing_python_skips_the_combination(fake_template: MakeTemplate) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    copier_yml = (
        "_subdirectory: template\n"
        f"python_version:\n  type: str\n  choices: ['3.0', '{here}']\n  default: '{here}'\n"
    )
    code, output = _verify("--template", str(fake_template(copier_yml=copier_yml)), "-m", "full")
    assert code == 0, output
    assert "1 passed, 0 failed, 1 skipped" in output
    assert "python_version=3.0: Python 3.0 is not installed" in output


def test_jobs_run_combinations_in_parallel_and_report_them_in_order(
    fake_template: MakeTemplate,
) -> None:
    slow = Gate("tests", ((sys.executable, "-c", "import time; time.sleep(1)"),))
    options = VerifyOptions(template=str(fake_template()), matrix="full", jobs=3, gates=(slow,))
    started = time.monotonic()
    result = verify(options)
    assert time.monotonic() - started < 6
    assert [outcome.combination.index for outcome in result.results] == [1, 2, 3, 4]
    assert [outcome.status for outcome in result.results] == [Status.PASSED] * 3 + [Status.INVALID]


def test_a_template_under_git_is_verified_as_it_is_on_disk(
    fake_template: MakeTemplate, tmp_path: Path
) -> None:
    template = fake_template()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    subprocess.run([*git, "add", "."], cwd=template, check=True)
    subprocess.run([*git, "commit", "-qm", "template"], cwd=template, check=True)
    code, output = _verify("--template", f"file://{template}")
    assert code == 0, output
    (template / "template" / "app.py.jinja").write_text("def broken(:\n")
    code, output = _verify("--template", str(template))
    assert code == 1, output
    assert "SyntaxError" in output


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_kills_the_gates_and_removes_everything(
    fake_template: MakeTemplate, tmp_path: Path
) -> None:
    template = fake_template()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pids = tmp_path / "pids"
    pids.mkdir()
    hang = (
        "import os, pathlib, time; "
        f"pathlib.Path({str(pids)!r}, str(os.getpid())).touch(); time.sleep(120)"
    )
    script = (
        "import sys\n"
        "import apiforge.gates\n"
        f"gate = apiforge.gates.Gate('tests', ((sys.executable, '-c', {hang!r}),))\n"
        "apiforge.gates.GATES = (gate,)\n"
        "from apiforge.cli import app\n"
        f"app(['verify', '--template', {str(template)!r}, '-m', 'full', '-j', '2'])\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(pids.iterdir())) == 2, process.communicate(timeout=5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr
    gates = [int(path.name) for path in pids.iterdir()]
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in gates) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in gates)
    assert list(scratch.iterdir()) == []


@pytest.mark.postgres
def test_postgresql_combinations_get_a_database_on_one_throwaway_server(
    fake_template: MakeTemplate, tmp_path: Path
) -> None:
    if find_pg_bin() is None:
        if IN_CI:
            pytest.fail("CI needs PostgreSQL for this test")
        pytest.skip("PostgreSQL is not installed")
    urls = tmp_path / "urls"
    urls.mkdir()
    record = (
        "import os, pathlib; "
        f"pathlib.Path({str(urls)!r}, '{{{{ database }}}}').write_text("
        "os.environ.get('DATABASE_URL', ''))"
    )
    template = fake_template(
        {"record.py.jinja": record.replace("{{{{ database }}}}", "{{ database }}")},
        copier_yml=SMALL_COPIER_YML,
    )
    gate = Gate("tests", ((sys.executable, "record.py"),))
    result = verify(VerifyOptions(template=str(template), matrix="full", gates=(gate,)))
    assert [outcome.status for outcome in result.results] == [Status.PASSED] * 2
    assert (urls / "sqlite").read_text() == ""
    url = urlsplit((urls / "postgresql").read_text())
    assert url.scheme == "postgresql+asyncpg"
    assert url.path.startswith("/verify_c02_")
    # The server is gone once verify returns.
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", url.port or 0)) != 0


def test_find_python_skips_shims_that_do_not_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge.gates import find_python

    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    real = tmp_path / "pyenv" / "versions" / "3.99.1" / "bin" / "python3.99"
    real.parent.mkdir(parents=True)
    real.write_text(f"#!/bin/sh\necho '3.99 {real}'\n")
    for script in (shim, real):
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    find_python.cache_clear()
    try:
        assert find_python("3.99") == str(real)
        assert find_python("3.98") is None
    finally:
        find_python.cache_clear()


def _commit_all(folder: Path, message: str, tag: str | None = None) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "--all"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", message], cwd=folder, check=True)
    if tag is not None:
        subprocess.run([*git, "tag", tag], cwd=folder, check=True)


@pytest.mark.usefixtures("git_identity")
@pytest.mark.parametrize("as_url", [False, True])
def test_from_generates_with_the_earlier_version_and_updates_before_the_gates(
    fake_template: MakeTemplate, monkeypatch: pytest.MonkeyPatch, as_url: bool
) -> None:
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    _commit_all(template, "v1", tag="v1")
    app_file = template / "template" / "app.py.jinja"
    app_file.write_text(app_file.read_text() + "VERSION = 2\n")
    _commit_all(template, "v2")
    updated = Gate("updated", ((sys.executable, "-c", "import app; assert app.VERSION == 2"),))
    monkeypatch.setattr("apiforge.gates.GATES", (*FAKE_GATES, updated))

    location = f"file://{template}" if as_url else str(template)
    code, output = _verify("--template", location, "--from", "v1")

    assert code == 0, output
    assert "update" in output
    assert "1 combination: 1 passed, 0 failed" in output


def test_from_an_unknown_ref_or_without_history_exits_2(fake_template: MakeTemplate) -> None:
    template = fake_template()
    code, output = _verify("--template", str(template), "--from", "v1")
    assert code == 2
    assert "--from needs a git repository" in " ".join(output.split())
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    _commit_all(template, "v1")
    code, output = _verify("--template", str(template), "--from", "nope")
    assert code == 2
    assert "nope is not a commit or tag" in " ".join(output.split())


def _listed(*args: str) -> list[str]:
    result = runner.invoke(app, ["verify", "--list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [item["id"] for item in json.loads(result.output)["combinations"]]


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 5])
def test_shards_together_run_exactly_the_whole_matrix(
    fake_template: MakeTemplate, shards: int
) -> None:
    template = str(fake_template())
    whole = _listed("--template", template, "--matrix", "full")
    parts = [
        _listed("--template", template, "--matrix", "full", "--shard", f"{k}/{shards}")
        for k in range(1, shards + 1)
    ]
    assert sorted(id_ for part in parts for id_ in part) == sorted(whole)
    assert sum(len(part) for part in parts) == len(whole) == 4
    # The same shard lists the same combinations every time.
    assert _listed("--template", template, "--matrix", "full", "--shard", f"1/{shards}") == parts[0]


def test_a_shard_runs_only_its_combinations(fake_template: MakeTemplate) -> None:
    code, output = _verify("--template", str(fake_template()), "--matrix", "full", "--shard", "1/2")
    assert code == 0, output
    assert "2 combinations" in output


@pytest.mark.parametrize("shard", ["0/2", "3/2", "a/b", "2"])
def test_a_bad_shard_is_a_usage_error(fake_template: MakeTemplate, shard: str) -> None:
    code, output = _verify("--template", str(fake_template()), "--shard", shard)
    assert code == 2
    assert "--shard takes K/N" in " ".join(output.split())


def test_strict_fails_a_combination_that_cannot_run_here(
    fake_template: MakeTemplate, tmp_path: Path
) -> None:
    copier_yml = SMALL_COPIER_YML.replace(
        "database:", "python_version:\n  type: str\n  default: '2.1'\ndatabase:"
    )
    template = str(fake_template(copier_yml=copier_yml))
    lenient, output = _verify("--template", template)
    assert lenient == 0, output
    report = tmp_path / "verify.xml"
    strict, output = _verify("--template", template, "--strict", "--report", str(report))
    assert strict == 1, output
    assert "Python 2.1 is not installed (--strict)" in " ".join(output.split())
    root = ElementTree.fromstring(report.read_text())
    assert root.get("failures") == "1"


def test_ref_verifies_the_template_at_a_tag(fake_template: MakeTemplate) -> None:
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    _commit_all(template, "good", tag="v1")
    (template / "template" / "app.py.jinja").write_text("def broken(:\n")
    _commit_all(template, "broken")
    assert _verify("--template", str(template))[0] == 1
    code, output = _verify("--template", str(template), "--ref", "v1")
    assert code == 0, output


def test_gates_run_the_real_uv_not_a_shim_that_fails_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under pyenv, `uv` on PATH can be a shim that fails where `.python-version` names
    another Python; the gates run uv by its real path."""
    from apiforge.gates import run_gates
    from apiforge.tools import find_uv

    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "uv"
    shim.write_text("#!/bin/sh\necho 'pyenv: uv: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".python-version").write_text("3.12\n")
    find_uv.cache_clear()
    try:
        results = run_gates(
            project, env=dict(os.environ), gates=(Gate("uv", (("uv", "--version"),)),)
        )
    finally:
        find_uv.cache_clear()
    assert results[0].ok, results[0].output
    assert results[0].output.startswith("$ uv --version\nuv ")


def test_a_markdown_summary_goes_to_a_md_report_and_to_githubs_step_summary(
    fake_template: MakeTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("Earlier steps.\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = tmp_path / "verify.md"
    code, output = _verify(
        "--template", str(fake_template()), "--matrix", "full", "--report", str(report)
    )
    assert code == 0, output
    text = report.read_text()
    assert text.startswith("### apiforge verify: ")
    assert "| id | combination | render | tests | lint |" in text
    assert "| c01 | flavour=plain ci=github | ✓" in text
    assert "(invalid: ci: GitLab runners cannot take the heat.)" in text
    assert summary.read_text() == "Earlier steps.\n" + text


def test_combinations_with_the_same_lock_file_share_one_environment(
    fake_template: MakeTemplate, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    seen.mkdir()
    record = (
        "import os, pathlib, uuid; "
        f"pathlib.Path({str(seen)!r}, uuid.uuid4().hex).write_text("
        "os.environ['UV_PROJECT_ENVIRONMENT'] + '|' + open('app.py').read().split()[2])"
    )
    # The lock file depends on the flavour only: the CI answer leaves it alone.
    template = fake_template({"uv.lock.jinja": "lock {{ flavour }}\n"})
    install = Gate("install", ((sys.executable, "-c", record),))

    result = verify(VerifyOptions(template=str(template), matrix="full", gates=(install,)))

    assert result.ok
    used = [line.split("|") for line in (path.read_text() for path in seen.iterdir())]
    by_flavour: dict[str, set[str]] = {}
    for environment, flavour in used:
        by_flavour.setdefault(flavour, set()).add(environment)
    assert len(used) == 3  # plain with github and gitlab, spicy with github
    assert {flavour: len(envs) for flavour, envs in by_flavour.items()} == {
        '"plain"': 1,
        '"spicy"': 1,
    }
    assert by_flavour['"plain"'] != by_flavour['"spicy"']
