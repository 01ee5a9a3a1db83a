"""The `observability` answer: Prometheus metrics, OpenTelemetry traces, Sentry errors.

Fast tests render the template with pytest-copie; the slow ones turn it on in an
existing project through `apiforge update --data observability=true`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import CATEGORY, CATEGORY_SERVICE_EDIT, dependency_names, git, render

from apiforge.pgserver import PostgresServer
from apiforge.template import bundled_template_dir, load_questions

OBSERVABILITY_FILES = [
    "src/observability/__init__.py",
    "src/observability/metrics.py",
    "src/observability/tracing.py",
    "src/observability/errors.py",
    "tests/test_observability/__init__.py",
    "tests/test_observability/test_metrics.py",
    "tests/test_observability/test_tracing.py",
    "tests/test_observability/test_errors.py",
]
# Only with the worker too: task counts.
TASK_FILES = ["src/observability/tasks.py", "tests/test_observability/test_tasks.py"]
PACKAGES = {
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation-fastapi",
    "opentelemetry-instrumentation-sqlalchemy",
    "prometheus-client",
    "sentry-sdk",
}


def test_observability_is_off_unless_asked_for() -> None:
    [question] = [q for q in load_questions(bundled_template_dir()) if q.name == "observability"]
    assert question.type == "bool"
    assert question.default is False


@pytest.mark.parametrize("worker", ["none", "taskiq"])
def test_without_it_nothing_of_it_is_rendered(copie: Any, template_dir: Path, worker: str) -> None:
    project = render(copie, template_dir, {"worker": worker})
    assert not (project / "src/observability").exists()
    assert not (project / "tests/test_observability").exists()
    assert not PACKAGES & dependency_names(project, dev=False)
    for name in ("src/main.py", "src/core/config.py", ".env.example"):
        text = (project / name).read_text(encoding="utf-8").lower()
        for word in ("opentelemetry", "prometheus", "sentry", "metrics_"):
            assert word not in text, (name, word)
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    assert [name for name in PACKAGES if f'name = "{name}"' in lock] == []
    if worker == "taskiq":
        broker = (project / "src/worker/broker.py").read_text()
        assert "observability" not in broker
        assert "import logging" not in broker


@pytest.mark.parametrize(("database", "worker"), [("sqlite", "none"), ("postgresql", "taskiq")])
def test_with_it_come_its_files_settings_and_locked_dependencies(
    copie: Any, template_dir: Path, database: str, worker: str
) -> None:
    answers = {"database": database, "worker": worker, "observability": True}
    project = render(copie, template_dir, answers)
    expected = OBSERVABILITY_FILES + (TASK_FILES if worker == "taskiq" else [])
    assert [name for name in expected if not (project / name).is_file()] == []
    if worker == "none":
        assert [name for name in TASK_FILES if (project / name).exists()] == []
    assert dependency_names(project, dev=False) >= PACKAGES
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    for name in PACKAGES:
        assert f'name = "{name}"' in lock, name
    config = (project / "src/core/config.py").read_text()
    for setting in ("metrics_port", "metrics_token", "sentry_dsn"):
        assert f"{setting}:" in config, setting
    example = (project / ".env.example").read_text()
    for variable in ("METRICS_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT", "SENTRY_DSN"):
        assert f"# {variable}=" in example, variable
    readme = (project / "README.md").read_text()
    assert "## Metrics, traces and errors" in readme
    assert "apiforge update --data observability=true" not in readme


def test_without_it_the_readme_says_how_to_turn_it_on(copie: Any, template_dir: Path) -> None:
    readme = (render(copie, template_dir, {}) / "README.md").read_text()
    section = readme.split("## Metrics, traces and errors", 1)[1].split("\n## ", 1)[0]
    assert "apiforge update --data observability=true" in section


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_compose_runs_one_worker_process_that_serves_its_metrics(
    copie: Any, template_dir: Path, database: str
) -> None:
    answers = {"database": database, "worker": "taskiq", "observability": True}
    project = render(copie, template_dir, answers)
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    app, worker = compose["services"]["app"], compose["services"]["worker"]
    command = worker["command"]
    assert command[command.index("--workers") + 1] == "1"
    assert worker["environment"]["METRICS_PORT"] == "9100"
    assert worker["environment"]["METRICS_HOST"] == "0.0.0.0"
    # The worker still gets everything the app gets.
    assert set(app["environment"]) <= set(worker["environment"])
    assert {k: v for k, v in worker["environment"].items() if k in app["environment"]} == (
        app["environment"]
    )
    assert "ports" not in worker  # reached inside the compose network only
    schema = ["--builtin-schema", "vendor.compose-spec"]
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(project / "compose.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- Turning it on later ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("git_identity")
@pytest.mark.parametrize(
    ("database", "worker"),
    [("sqlite", "none"), pytest.param("postgresql", "taskiq", marks=pytest.mark.postgres)],
)
def test_an_existing_project_takes_observability_later_and_stays_green(
    tmp_path: Path,
    database: str,
    worker: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A project with a resource and a team edit runs `apiforge update --data
    observability=true`: the merge is clean, every gate passes (the metrics, tracing and
    Sentry tests included), and the next update has nothing to do."""
    from apiforge.add import AddOptions, add_resource
    from apiforge.gates import find_python, project_env, run_gates
    from apiforge.new import init_git, write_env
    from apiforge.project import installed_template
    from apiforge.update import UpdateOptions, render_installed, update_project

    extra: dict[str, str] = {}
    if database == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        extra["DATABASE_URL"] = server.create_database("shop_observability")
        monkeypatch.setenv("DATABASE_URL", extra["DATABASE_URL"])
    project = tmp_path / "shop"
    answers = {"project_name": "shop", "database": database, "worker": worker}
    render_installed(installed_template(), project, answers)
    write_env(project)
    init_git(project)
    add_resource(AddOptions(name="category", fields=CATEGORY, project=project))
    service = project / "src/services/category.py"
    service.write_text(service.read_text() + CATEGORY_SERVICE_EDIT)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team: categories describe themselves")

    result = update_project(UpdateOptions(project=project, data={"observability": True}))

    assert result.committed, result.conflicts
    assert result.findings.problems == []
    answers_file = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers_file["observability"] is True
    assert [name for name in OBSERVABILITY_FILES if not (project / name).is_file()] == []
    assert "def describe()" in service.read_text()
    assert git(project, "status", "--porcelain") == ""

    python = find_python((project / ".python-version").read_text().strip())
    results = run_gates(project, env=project_env(extra, python=python))
    failed = [gate for gate in results if not gate.ok]
    assert not failed, "\n\n".join(f"[{gate.name}] {gate.output[-4000:]}" for gate in failed)

    again = update_project(UpdateOptions(project=project))
    assert again.up_to_date
    assert git(project, "status", "--porcelain") == ""
