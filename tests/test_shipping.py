"""What a generated project ships besides its code: Docker, CI, pre-commit, AGENTS.md.

Rendered with pytest-copie, offline and fast. The YAML files must parse and, where a
schema is vendored by check-jsonschema, match it; every command they run must name a
tool the project installs; the Dockerfile may only copy files that exist and that
`.dockerignore` lets through; and `python_version` must reach the base image and the
CI matrix. The CI commands must be the gates `apiforge verify` runs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import dependency_names

from apiforge.gates import GATES
from apiforge.template import load_questions

DATABASES = ("sqlite", "postgresql")
CIS = ("github", "gitlab", "none")
GITHUB_WORKFLOW = ".github/workflows/ci.yml"
GITLAB_PIPELINE = ".gitlab-ci.yml"

# Commands a project runs with `uv run`, and the distribution that installs each.
PROJECT_TOOLS = {
    "alembic": "alembic",
    "fastapi": "fastapi-cli",
    "mypy": "mypy",
    "pytest": "pytest",
    "ruff": "ruff",
}
# Tools fetched on demand with `uvx`, not installed by the project.
UVX_TOOLS = {"apiforge"}
UV_SUBCOMMANDS = {"cache", "lock", "run", "sync"}

# Hook ids of the pinned revisions, from each repository's .pre-commit-hooks.yaml.
KNOWN_HOOKS = {
    "https://github.com/pre-commit/pre-commit-hooks": {
        "check-added-large-files",
        "check-case-conflict",
        "check-json",
        "check-merge-conflict",
        "check-toml",
        "check-yaml",
        "debug-statements",
        "detect-private-key",
        "end-of-file-fixer",
        "mixed-line-ending",
        "trailing-whitespace",
    },
    "https://github.com/astral-sh/ruff-pre-commit": {"ruff", "ruff-check", "ruff-format"},
}
REQUIRED_HOOKS = {
    "trailing-whitespace",
    "end-of-file-fixer",
    "check-yaml",
    "check-toml",
    "check-merge-conflict",
    "ruff-check",
    "ruff-format",
    "mypy",
}

Render = Callable[..., Path]


@pytest.fixture(scope="module")
def render(copie_session: Any, template_dir: Path) -> Render:
    """Render the template once per set of answers: `render(database=..., ci=...)`."""
    cache: dict[tuple[tuple[str, str], ...], Path] = {}

    def make(**answers: str) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in cache:
            result = copie_session.copy(extra_answers=answers, template_dir=template_dir)
            assert result.exit_code == 0, result.exception
            cache[key] = result.project_dir
        return cache[key]

    return make


def _variants() -> list[Any]:
    return [
        pytest.param(database, ci, id=f"{database}-{ci}") for database in DATABASES for ci in CIS
    ]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- Which files each answer renders ---------------------------------------------


@pytest.mark.parametrize(("database", "ci"), _variants())
def test_each_ci_choice_renders_only_its_own_files(render: Render, database: str, ci: str) -> None:
    project = render(database=database, ci=ci)
    assert (project / GITHUB_WORKFLOW).is_file() == (ci == "github")
    assert (project / ".github").exists() == (ci == "github")
    assert (project / GITLAB_PIPELINE).is_file() == (ci == "gitlab")
    for name in ("Dockerfile", ".dockerignore", "compose.yaml", ".pre-commit-config.yaml"):
        assert (project / name).is_file(), name
    assert ("CI runs them all" in (project / "AGENTS.md").read_text()) == (ci != "none")
    assert ("## Continuous integration" in (project / "README.md").read_text()) == (ci != "none")


@pytest.mark.parametrize(("database", "ci"), _variants())
def test_yaml_files_parse(render: Render, database: str, ci: str) -> None:
    project = render(database=database, ci=ci)
    names = ["compose.yaml", ".pre-commit-config.yaml", ".copier-answers.yml"]
    names += [name for name in (GITHUB_WORKFLOW, GITLAB_PIPELINE) if (project / name).exists()]
    for name in names:
        assert isinstance(_yaml(project / name), dict), name


@pytest.mark.parametrize(
    ("schema", "relative", "ci"),
    [
        ("vendor.github-workflows", GITHUB_WORKFLOW, "github"),
        ("vendor.gitlab-ci", GITLAB_PIPELINE, "gitlab"),
        ("vendor.compose-spec", "compose.yaml", "none"),
    ],
)
def test_yaml_files_match_their_published_schemas(
    render: Render, schema: str, relative: str, ci: str
) -> None:
    files = [str(render(database=database, ci=ci) / relative) for database in DATABASES]
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- Commands ----------------------------------------------------------------------


def _substitutions(line: str) -> tuple[str, list[str]]:
    """*line* with each `$(...)` replaced by a word, and the commands they held."""
    inner: list[str] = []
    while (start := line.find("$(")) != -1:
        depth, end = 0, start + 1
        for end in range(start + 1, len(line)):
            depth += {"(": 1, ")": -1}.get(line[end], 0)
            if depth == 0:
                break
        inner.append(line[start + 2 : end])
        line = f"{line[:start]}SUBSTITUTED{line[end + 1 :]}"
    return line, inner


def _simple_commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a shell script, `$(...)` substitutions included."""
    for raw in script.splitlines():
        line, inner = _substitutions(raw.strip())
        for command in inner:
            yield from _simple_commands(command)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in {"&&", "||", ";", "|", "&"}:
                while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
                    words = words[1:]
                if words:
                    yield words
                words = []
            else:
                words.append(token)


def _command_problem(words: list[str], installed: set[str]) -> str | None:
    """Why *words* would fail in the project, or None when its tool is there."""
    command = " ".join(words)
    program = words[0]
    if program == "export":
        return None
    if program == "uvx":
        return None if words[1] in UVX_TOOLS else f"{command}: unknown uvx tool"
    if program != "uv":
        return f"{command}: {program} is neither uv nor a tool the project installs"
    if len(words) < 2 or words[1] not in UV_SUBCOMMANDS:
        return f"{command}: not a uv command the project uses"
    if words[1] != "run":
        return None
    rest = [word for word in words[2:] if not word.startswith("-")]
    tool = rest[0] if rest else ""
    if tool == "python":
        return None
    if tool not in PROJECT_TOOLS:
        return f"{command}: `uv run {tool}` is not a known project tool"
    if PROJECT_TOOLS[tool] not in installed:
        return f"{command}: {PROJECT_TOOLS[tool]} is not in pyproject.toml"
    if "--cov" in words and "pytest-cov" not in installed:
        return f"{command}: pytest-cov is not in pyproject.toml"
    return None


@dataclass(frozen=True)
class Job:
    name: str
    spec: dict[str, Any]
    scripts: list[str]


def _github_jobs(project: Path) -> list[Job]:
    workflow = _yaml(project / GITHUB_WORKFLOW)
    return [
        Job(name, job, [step["run"] for step in job["steps"] if "run" in step])
        for name, job in workflow["jobs"].items()
    ]


def _gitlab_jobs(project: Path) -> list[Job]:
    pipeline = _yaml(project / GITLAB_PIPELINE)
    default = pipeline.get("default", {})
    jobs = []
    for name, spec in pipeline.items():
        if name.startswith(".") or not isinstance(spec, dict) or "script" not in spec:
            continue
        merged: dict[str, Any] = {}
        for parent in [spec["extends"]] if "extends" in spec else []:
            merged.update(pipeline[parent])
        merged.update(spec)
        scripts = [
            *merged.get("before_script", default.get("before_script", [])),
            *merged["script"],
            *merged.get("after_script", default.get("after_script", [])),
        ]
        jobs.append(Job(name, merged, scripts))
    return jobs


def _ci_jobs(project: Path, ci: str) -> list[Job]:
    return _github_jobs(project) if ci == "github" else _gitlab_jobs(project)


def _uv_runs(jobs: list[Job]) -> set[str]:
    """Every `uv run ...` of the jobs, as `tool args` (uv's own options left out)."""
    runs = set()
    for job in jobs:
        for script in job.scripts:
            for words in _simple_commands(script):
                if words[:2] == ["uv", "run"]:
                    runs.add(" ".join(word for word in words[2:] if word != "--no-sync"))
    return runs


CI_VARIANTS = [
    pytest.param(database, ci, id=f"{database}-{ci}") for database in DATABASES for ci in CIS[:2]
]


@pytest.mark.parametrize(("database", "ci"), CI_VARIANTS)
def test_ci_commands_name_tools_the_project_installs(
    render: Render, database: str, ci: str
) -> None:
    project = render(database=database, ci=ci)
    installed = dependency_names(project)
    problems = [
        problem
        for job in _ci_jobs(project, ci)
        for script in job.scripts
        for words in _simple_commands(script)
        if (problem := _command_problem(words, installed)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize(("database", "ci"), CI_VARIANTS)
def test_ci_runs_the_gates_apiforge_verify_runs(render: Render, database: str, ci: str) -> None:
    project = render(database=database, ci=ci)
    jobs = _ci_jobs(project, ci)
    runs = _uv_runs(jobs)
    expected = {
        " ".join(command[3:])
        for gate in GATES
        if gate.name not in {"install", "tests"}
        for command in gate.commands
    }
    assert expected <= runs, expected - runs
    assert "pytest --cov" in runs
    scripts = "\n".join(script for job in jobs for script in job.scripts)
    assert "uv sync --locked" in scripts
    migrations = [line.strip() for line in scripts.splitlines() if "alembic" in line]
    assert migrations == [
        "uv run alembic upgrade head",
        "uv run alembic downgrade base",
        "uv run alembic upgrade head",
        "uv run alembic check",
    ]


@pytest.mark.parametrize(("database", "ci"), CI_VARIANTS)
def test_ci_checks_the_template_version_without_blocking(
    render: Render, database: str, ci: str
) -> None:
    jobs = _ci_jobs(render(database=database, ci=ci), ci)
    checking = [job for job in jobs if "uvx apiforge check" in job.scripts]
    assert len(checking) == 1
    blocking_key = "continue-on-error" if ci == "github" else "allow_failure"
    assert checking[0].spec[blocking_key] is True


@pytest.mark.parametrize("database", DATABASES)
def test_github_workflow_caches_uv_and_pins_its_actions(render: Render, database: str) -> None:
    project = render(database=database, ci="github")
    for job in _github_jobs(project):
        steps = job.spec["steps"]
        for step in steps:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+\.\d+)?", step["uses"]), step
        setup = [step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv@")]
        assert len(setup) == 1, job.name
        if any("uv sync" in script for script in job.scripts):
            assert setup[0]["with"]["enable-cache"] is True, job.name


@pytest.mark.parametrize("database", DATABASES)
def test_gitlab_pipeline_keeps_uvs_cache(render: Render, database: str) -> None:
    pipeline = _yaml(render(database=database, ci="gitlab") / GITLAB_PIPELINE)
    cache_dir = pipeline["variables"]["UV_CACHE_DIR"]
    assert not Path(cache_dir).is_absolute()  # GitLab caches paths inside the project only
    assert pipeline["default"]["cache"]["paths"] == ["$UV_CACHE_DIR"]
    dockerignore = (render(database=database, ci="gitlab") / ".dockerignore").read_text()
    assert f"{cache_dir.rstrip('/')}/" in dockerignore.splitlines()


@pytest.mark.parametrize("ci", CIS[:2])
def test_postgresql_ci_tests_against_a_service_without_a_password(render: Render, ci: str) -> None:
    project = render(database="postgresql", ci=ci)
    text = (project / (GITHUB_WORKFLOW if ci == "github" else GITLAB_PIPELINE)).read_text()
    assert "POSTGRES_PASSWORD" not in text
    for job in _ci_jobs(project, ci):
        if not any("alembic" in script or "pytest" in script for script in job.scripts):
            continue
        if ci == "github":
            service = job.spec["services"]["postgres"]
            service_env, host = service["env"], "localhost:5432"
            assert "5432:5432" in service["ports"]
            assert "--health-cmd" in service["options"]
            url = job.spec["env"]["DATABASE_URL"]
        else:
            (service,) = job.spec["services"]
            service_env, host = service["variables"], f"{service['alias']}:5432"
            url = job.spec["variables"]["DATABASE_URL"]
        assert service_env["POSTGRES_HOST_AUTH_METHOD"] == "trust"
        assert url == f"postgresql+asyncpg://postgres@{host}/{service_env['POSTGRES_DB']}", job


@pytest.mark.parametrize("ci", CIS[:2])
def test_sqlite_ci_needs_no_database_service(render: Render, ci: str) -> None:
    project = render(database="sqlite", ci=ci)
    text = (project / (GITHUB_WORKFLOW if ci == "github" else GITLAB_PIPELINE)).read_text()
    assert "services:" not in text
    assert "DATABASE_URL" not in text


def _python_matrix(project: Path, ci: str) -> list[str]:
    if ci == "github":
        workflow = _yaml(project / GITHUB_WORKFLOW)
        return list(workflow["jobs"]["tests"]["strategy"]["matrix"]["python"])
    pipeline = _yaml(project / GITLAB_PIPELINE)
    (matrix,) = pipeline["tests"]["parallel"]["matrix"]
    return list(matrix["PYTHON_VERSION"])


@pytest.mark.parametrize("ci", CIS[:2])
@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_python_version_sets_the_base_image_and_the_ci_matrix(
    render: Render, template_dir: Path, version: str, ci: str
) -> None:
    project = render(python_version=version, ci=ci)
    questions = {question.name: question for question in load_questions(template_dir)}
    supported = list(questions["python_version"].choices)
    assert _python_matrix(project, ci) == supported[supported.index(version) :]
    bases = [args for keyword, args in _instructions(project) if keyword == "FROM"]
    assert bases
    assert {args.split()[0] for args in bases} == {f"python:{version}-slim"}
    assert f'requires-python = ">={version}"' in (project / "pyproject.toml").read_text()


# --- Dockerfile and .dockerignore ------------------------------------------------------


def _instructions(project: Path) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (project / "Dockerfile").read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def _copies(project: Path) -> list[list[str]]:
    """The sources of each COPY or ADD from the build context (not from a stage or image)."""
    copies = []
    for keyword, args in _instructions(project):
        if keyword not in {"COPY", "ADD"}:
            continue
        words = shlex.split(args)
        if any(word.startswith("--from=") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        copies.append(paths[:-1])
    return copies


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus `**`) as a regular expression."""
    out, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            out.append(pattern[index : end + 1])
            index = end + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))


def _dockerignored(project: Path) -> Callable[[str], bool]:
    rules = []
    for raw in (project / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _glob_regex(line.removeprefix("!").strip().strip("/"))))

    def ignored(path: str) -> bool:
        parts = path.strip("/").split("/")
        prefixes = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
        result = False
        for negated, regex in rules:
            if any(regex.fullmatch(prefix) for prefix in prefixes):
                result = not negated
        return result

    return ignored


def test_the_dockerignore_reading_follows_dockers_rules(render: Render) -> None:
    ignored = _dockerignored(render())
    assert ignored(".env")
    assert ignored(".venv/bin/python")
    assert ignored("src/__pycache__/main.cpython-311.pyc")
    assert ignored("my_service.db")
    assert ignored("data/nested/my_service.db")
    assert ignored(".env.local")
    assert not ignored("src/main.py")
    assert not ignored("alembic/env.py")


@pytest.mark.parametrize("database", DATABASES)
def test_docker_build_copies_only_files_that_exist_and_are_not_ignored(
    render: Render, database: str
) -> None:
    project = render(database=database)
    ignored = _dockerignored(project)
    sources = [source for copy in _copies(project) for source in copy]
    assert sources
    for source in sources:
        path = project / source
        assert path.exists(), source
        assert not ignored(source), source
        inside = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
        for item in inside:
            assert not ignored(item.relative_to(project).as_posix()), item
    for secret in (".env", ".venv", ".git", "local.db"):
        assert ignored(secret), secret


@pytest.mark.parametrize("database", DATABASES)
def test_docker_image_caches_dependencies_apart_from_the_code(
    render: Render, database: str
) -> None:
    project = render(database=database)
    steps = [
        (keyword, args) for keyword, args in _instructions(project) if keyword in {"COPY", "RUN"}
    ]
    texts = [f"{keyword} {args}" for keyword, args in steps]
    manifests = texts.index("COPY pyproject.toml uv.lock ./")
    install = next(n for n, text in enumerate(texts) if "uv sync" in text)
    code = texts.index("COPY src ./src")
    assert manifests < install < code
    assert "--locked --no-install-project --no-dev" in texts[install]
    assert "--mount=type=cache" in texts[install]
    assert dependency_names(project, dev=False) >= {"fastapi-cli", "alembic"}


@pytest.mark.parametrize("database", DATABASES)
def test_docker_image_serves_the_app_as_a_user_with_a_health_check(
    render: Render, database: str
) -> None:
    project = render(database=database)
    instructions = _instructions(project)
    final = instructions[
        max(n for n, (keyword, _) in enumerate(instructions) if keyword == "FROM") :
    ]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric user, which runAsNonRoot can check"
    assert uid != "0"
    (command,) = [args for keyword, args in final if keyword == "CMD"]
    served = re.search(r"fastapi run (\S+) .*--port (\d+) .*--workers \S*WEB_CONCURRENCY", command)
    assert served is not None, command
    module = served.group(1)
    assert (project / module).is_file()
    assert re.search(r"^app = create_app\(\)$", (project / module).read_text(), re.M)
    assert ("EXPOSE", served.group(2)) in final
    assert any(keyword == "ENV" and "WEB_CONCURRENCY=" in args for keyword, args in final)
    (health,) = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{served.group(2)}/api/health'" in health
    assert "urllib.request" in health
    assert 'prefix="/health"' in (project / "src/api/routes/health.py").read_text()


# --- compose.yaml ------------------------------------------------------------------------


@pytest.mark.parametrize("database", DATABASES)
def test_compose_migrates_once_before_the_app_starts(render: Render, database: str) -> None:
    project = render(database=database)
    services = _yaml(project / "compose.yaml")["services"]
    migrate, app = services["migrate"], services["app"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "command" not in app  # the image's CMD: serve only, never migrate
    for service in (migrate, app):
        assert service["build"] == "."
        assert service["environment"]["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"


def test_compose_for_postgresql_has_a_healthy_database_and_no_password(render: Render) -> None:
    project = render(database="postgresql")
    compose = _yaml(project / "compose.yaml")
    db = compose["services"]["db"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert compose["services"]["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert db["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    url = compose["services"]["app"]["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in url
    assert "@db:5432/" in url


def test_compose_for_sqlite_keeps_the_database_in_a_named_volume(render: Render) -> None:
    project = render()
    compose = _yaml(project / "compose.yaml")
    assert "db" not in compose["services"]
    app = compose["services"]["app"]
    volume, _, target = app["volumes"][0].partition(":")
    assert volume in compose["volumes"]
    assert app["environment"]["DATABASE_URL"].startswith(f"sqlite+aiosqlite:///{target}/")
    # The image makes the folder, owned by its user, so a new volume is writable.
    assert any(
        keyword == "RUN" and f"chown app {target}" in args
        for keyword, args in _instructions(project)
    )


# --- pre-commit ----------------------------------------------------------------------------


@pytest.mark.parametrize("database", DATABASES)
def test_pre_commit_hooks_exist_and_local_ones_use_project_tools(
    render: Render, database: str
) -> None:
    project = render(database=database)
    config = _yaml(project / ".pre-commit-config.yaml")
    installed = dependency_names(project)
    hooks: set[str] = set()
    for repo in config["repos"]:
        ids = {hook["id"] for hook in repo["hooks"]}
        hooks |= ids
        if repo["repo"] == "local":
            for hook in repo["hooks"]:
                assert hook["language"] == "system"
                assert hook["pass_filenames"] is False
                words = shlex.split(hook["entry"])
                assert _command_problem(words, installed) is None
            continue
        assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"]), repo
        assert ids <= KNOWN_HOOKS[repo["repo"]], ids - KNOWN_HOOKS[repo["repo"]]
    assert hooks >= REQUIRED_HOOKS | {"detect-private-key", "check-added-large-files"}
    (merge_check,) = [
        hook
        for repo in config["repos"]
        for hook in repo["hooks"]
        if hook["id"] == "check-merge-conflict"
    ]
    # Without it the hook only looks while a merge is being committed.
    assert "--assume-in-merge" in merge_check["args"]


def test_pre_commits_ruff_is_the_projects_ruff(render: Render) -> None:
    project = render()
    config = _yaml(project / ".pre-commit-config.yaml")
    (ruff,) = [repo for repo in config["repos"] if repo["repo"].endswith("/ruff-pre-commit")]
    pyproject = (project / "pyproject.toml").read_text()
    floor = re.search(r'"ruff>=(\d+\.\d+)', pyproject)
    assert floor is not None
    assert ruff["rev"].startswith(f"v{floor.group(1)}.")


@pytest.mark.parametrize(("database", "ci"), _variants())
def test_rendered_files_already_pass_the_hygiene_hooks(
    render: Render, database: str, ci: str
) -> None:
    """What trailing-whitespace, end-of-file-fixer, check-merge-conflict, check-toml and
    detect-private-key would say of a fresh project: nothing to fix."""
    project = render(database=database, ci=ci)
    problems = []
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(project).as_posix()
        text = path.read_text(encoding="utf-8")
        if any(line != line.rstrip(" \t") for line in text.splitlines()):
            problems.append(f"{name}: trailing whitespace")
        if text and (not text.endswith("\n") or text.endswith("\n\n")):
            problems.append(f"{name}: not exactly one newline at the end")
        if re.search(r"^(<<<<<<< |=======$|>>>>>>> )", text, re.M):
            problems.append(f"{name}: merge-conflict marker")
        if "PRIVATE KEY-----" in text:
            problems.append(f"{name}: private key")
        if name.endswith(".toml"):
            tomllib.loads(text)
    assert problems == []


# --- AGENTS.md ---------------------------------------------------------------------------------


def _tree(block: str) -> list[str]:
    """The paths of an indented tree (two spaces a level), as in the Layout sections."""
    paths: list[str] = []
    stack: list[str] = []
    for line in block.splitlines():
        match = re.match(r"( *)(\S+)", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 2
        stack = [*stack[:depth], match.group(2).rstrip("/")]
        paths.append("/".join(stack))
    return paths


@pytest.mark.parametrize("database", DATABASES)
def test_agents_md_describes_this_project(render: Render, database: str) -> None:
    project = render(database=database)
    agents = (project / "AGENTS.md").read_text()
    layout = re.search(r"## Layout\n\n```\n(.*?)```", agents, re.S)
    assert layout is not None
    missing = [path for path in _tree(layout.group(1)) if not (project / path).exists()]
    assert missing == []
    deps = (project / "src/api/deps.py").read_text()
    for alias in ("SessionDep", "CurrentUser", "SuperUser"):
        assert f"`{alias}`" in agents
        assert f"\n{alias} = Annotated[" in deps
    exceptions = (project / "src/core/exceptions.py").read_text()
    for error in set(re.findall(r"`(\w+Error)`", agents)):
        assert f"class {error}(" in exceptions, error
    conftest = (project / "tests/conftest.py").read_text()
    for fixture in ("client", "session", "user", "user_headers", "superuser_headers"):
        assert f"`{fixture}`" in agents
        assert re.search(rf"def {fixture}\(", conftest), fixture
    for command in ("apiforge add resource", "apiforge update", "uv run alembic check"):
        assert command in agents
    assert "TEST_DATABASE_URL" in agents
    assert ("`_test` suffix" in agents) == (database == "postgresql")
