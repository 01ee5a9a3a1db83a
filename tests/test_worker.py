"""The `worker` answer: none, or a taskiq worker and scheduler on Redis.

Fast tests render the template with pytest-copie; the slow one turns the worker on
in an existing project through `apiforge update --data worker=taskiq`.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import CATEGORY, CATEGORY_SERVICE_EDIT, dependency_names, git, render

from apiforge.pgserver import PostgresServer
from apiforge.template import bundled_template_dir, load_questions
from apiforge.template_locks import lock_name, read_locks

WORKER_FILES = [
    "src/worker/__init__.py",
    "src/worker/broker.py",
    "src/worker/middleware.py",
    "src/worker/scheduler.py",
    "src/worker/tasks.py",
    "src/db/redis.py",
    "src/db/repositories/redis_rate_limit.py",
    "src/api/routes/admin.py",
    "src/schemas/task.py",
    "tests/redis_server.py",
    "tests/test_worker/test_tasks.py",
    "tests/test_worker/test_redis.py",
]


def test_the_worker_is_off_unless_asked_for() -> None:
    [worker] = [q for q in load_questions(bundled_template_dir()) if q.name == "worker"]
    assert worker.choices == ("none", "taskiq")
    assert worker.default == "none"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_without_a_worker_nothing_of_it_or_of_redis_is_rendered(
    copie: Any, template_dir: Path, database: str
) -> None:
    project = render(copie, template_dir, {"database": database})
    assert [name for name in WORKER_FILES if (project / name).exists()] == []
    assert not (project / "src/worker").exists()
    assert not any(
        "redis" in name or "taskiq" in name for name in dependency_names(project, dev=False)
    )
    for name in ("compose.yaml", ".env.example", "src/core/config.py", "uv.lock"):
        text = (project / name).read_text(encoding="utf-8").lower()
        assert "redis" not in text, name
        assert "taskiq" not in text, name
    # The rate limits stay in the database.
    assert "RateLimitRepository(session)" in (project / "src/db/counters.py").read_text()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_taskiq_worker_brings_its_files_settings_and_locked_dependencies(
    copie: Any, template_dir: Path, database: str
) -> None:
    project = render(copie, template_dir, {"database": database, "worker": "taskiq"})
    assert [name for name in WORKER_FILES if not (project / name).is_file()] == []
    names = dependency_names(project, dev=False)
    assert {"taskiq", "taskiq-redis", "redis"} <= names
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    for name in ("taskiq", "taskiq-redis", "redis"):
        assert f'name = "{name}"' in lock, name
    assert "redis_url: str" in (project / "src/core/config.py").read_text()
    assert "# REDIS_URL=" in (project / ".env.example").read_text()
    counters = (project / "src/db/counters.py").read_text()
    assert "RedisRateLimitCounters(redis_client)" in counters
    assert "include_router(admin.router)" in (project / "src/api/routes/__init__.py").read_text()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_compose_runs_the_worker_and_scheduler_next_to_a_healthy_redis(
    copie: Any, template_dir: Path, database: str
) -> None:
    project = render(copie, template_dir, {"database": database, "worker": "taskiq"})
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    services = compose["services"]
    redis = services["redis"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert redis["volumes"][0].split(":")[0] in compose["volumes"]
    for name in ("app", "worker", "scheduler"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0", name
    assert services["worker"]["command"][:2] == ["taskiq", "worker"]
    assert services["scheduler"]["command"][:2] == ["taskiq", "scheduler"]
    # The worker uses the migrated database, as the app does.
    condition = services["worker"]["depends_on"]["migrate"]["condition"]
    assert condition == "service_completed_successfully"
    schema = ["--builtin-schema", "vendor.compose-spec"]
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(project / "compose.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_installs_the_redis_server_the_tests_start(
    copie: Any, template_dir: Path, ci: str
) -> None:
    with_worker = render(copie, template_dir, {"ci": ci, "worker": "taskiq"})
    without = render(copie, template_dir, {"ci": ci})
    name = ".github/workflows/ci.yml" if ci == "github" else ".gitlab-ci.yml"
    installs = [
        line for line in (with_worker / name).read_text().splitlines() if "apt-get install" in line
    ]
    assert any(line.endswith(" redis-server") for line in installs), installs
    assert "redis-server" not in (without / name).read_text()


def test_every_variant_has_its_lock() -> None:
    template = bundled_template_dir()
    questions = {question.name: question for question in load_questions(template)}
    variants = product(
        questions["database"].choices,
        questions["worker"].choices,
        (False, True),
        questions["python_version"].choices,
    )
    expected = {
        lock_name(database, python, worker, observability=observability)
        for database, worker, observability, python in variants
    }
    assert set(read_locks(template)) == expected
    assert lock_name("sqlite", "3.11") == "sqlite-py3.11"
    assert lock_name("sqlite", "3.11", "taskiq") == "sqlite-taskiq-py3.11"
    assert (
        lock_name("postgresql", "3.13", "taskiq", observability=True)
        == "postgresql-taskiq-observability-py3.13"
    )
    # One merged file per Python, and nothing else.
    locks = template / "template" / "_locks"
    pythons = questions["python_version"].choices
    assert sorted(path.name for path in locks.iterdir()) == [
        f"py{python}.lock.jinja" for python in sorted(pythons)
    ]


# --- Turning the worker on later ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("git_identity")
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_an_existing_project_takes_the_worker_later_and_stays_green(
    tmp_path: Path,
    database: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A project with a resource and a team edit runs `apiforge update --data
    worker=taskiq`: the merge is clean, every gate passes (the worker's tests against a
    Redis server they start included), and the next update has nothing to do."""
    from apiforge.add import AddOptions, add_resource
    from apiforge.gates import find_python, project_env, run_gates
    from apiforge.new import init_git, write_env
    from apiforge.project import installed_template
    from apiforge.update import UpdateOptions, render_installed, update_project

    extra: dict[str, str] = {}
    if database == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        extra["DATABASE_URL"] = server.create_database("shop_worker")
        monkeypatch.setenv("DATABASE_URL", extra["DATABASE_URL"])
    project = tmp_path / "shop"
    render_installed(installed_template(), project, {"project_name": "shop", "database": database})
    write_env(project)
    init_git(project)
    add_resource(AddOptions(name="category", fields=CATEGORY, project=project))
    service = project / "src/services/category.py"
    service.write_text(service.read_text() + CATEGORY_SERVICE_EDIT)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team: categories describe themselves")

    result = update_project(UpdateOptions(project=project, data={"worker": "taskiq"}))

    assert result.committed, result.conflicts
    assert result.findings.problems == []
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["worker"] == "taskiq"
    assert [name for name in WORKER_FILES if not (project / name).is_file()] == []
    assert "def describe()" in service.read_text()
    assert (project / "src/api/routes/categories.py").is_file()
    assert git(project, "status", "--porcelain") == ""

    python = find_python((project / ".python-version").read_text().strip())
    results = run_gates(project, env=project_env(extra, python=python))
    failed = [gate for gate in results if not gate.ok]
    assert not failed, "\n\n".join(f"[{gate.name}] {gate.output[-4000:]}" for gate in failed)

    again = update_project(UpdateOptions(project=project))
    assert again.up_to_date
    assert git(project, "status", "--porcelain") == ""
