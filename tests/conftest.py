"""Fixtures shared by apiforge's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import IN_CI, copy_template

from apiforge.errors import UsageError
from apiforge.pgserver import PostgresServer, PostgresUnavailable, throwaway_postgres
from apiforge.project import Installed, installed_template, parse_version
from apiforge.template import bundled_template_dir, export_template, staged_template

REPOSITORY = Path(__file__).resolve().parent.parent


def releases() -> dict[str, str]:
    """Each released template version and the commit that shipped it (releases.toml)."""
    import tomllib

    with (REPOSITORY / "releases.toml").open("rb") as file:
        return {str(version): str(commit) for version, commit in tomllib.load(file).items()}


@pytest.fixture(scope="session")
def released_template(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Installed]:
    """`make(version)`: the template of an earlier release, as that apiforge installed it."""
    made: dict[str, Installed] = {}

    def make(version: str) -> Installed:
        if version not in made:
            folder = tmp_path_factory.mktemp(f"release-{version}")
            try:
                export_template(REPOSITORY, releases()[version], folder)
            except UsageError as exc:
                if IN_CI:
                    pytest.fail(f"CI needs the release {version} from git history: {exc}")
                pytest.skip(str(exc))
            changelog = folder / "CHANGELOG.md"
            made[version] = Installed(folder, version, changelog if changelog.is_file() else None)
        return made[version]

    return make


@pytest.fixture(scope="session")
def previous_release() -> tuple[str, str]:
    """The newest release before the version in this checkout, and its commit."""
    current = parse_version(installed_template().version)
    earlier = {v: c for v, c in releases().items() if parse_version(v) < current}
    if not earlier:
        pytest.fail(f"releases.toml lists no release before {current}.")
    version = max(earlier, key=parse_version)
    return version, earlier[version]


@pytest.fixture(scope="session")
def previous_template(
    released_template: Callable[[str], Installed], previous_release: tuple[str, str]
) -> Installed:
    """The template of the newest release before the version in this checkout."""
    return released_template(previous_release[0])


@pytest.fixture(scope="session")
def first_template(released_template: Callable[[str], Installed]) -> Installed:
    """The template of the first release, which every later one must still update."""
    return released_template(min(releases(), key=parse_version))


@pytest.fixture(scope="session")
def template_dir() -> Iterator[Path]:
    """The bundled template as it is on disk (uncommitted changes included)."""
    with staged_template(bundled_template_dir()) as folder:
        yield folder


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole test session.

    Under CI the PostgreSQL tests must run, so a server that cannot start fails
    them; on a developer machine without PostgreSQL they are skipped.
    """
    try:
        with throwaway_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI needs PostgreSQL for these tests: {exc}")
        pytest.skip(f"{exc} (or run with CI=true to make this a failure)")


FAKE_COPIER_YML = """\
_subdirectory: template
_answers_file: .copier-answers.yml

project_name:
  type: str
  default: demo

flavour:
  type: str
  choices: [plain, spicy]
  default: plain

ci:
  type: str
  choices: [github, gitlab]
  default: github
  validator: >-
    {% if ci == 'gitlab' and flavour == 'spicy' %}GitLab runners cannot take the heat.{% endif %}
"""

FAKE_FILES = {
    "{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "app.py.jinja": 'FLAVOUR = "{{ flavour }}"\nCI = "{{ ci }}"\n',
}


@pytest.fixture
def fake_template(tmp_path: Path) -> Callable[..., Path]:
    """Make a tiny copier template: `make(files={...}, copier_yml=...)` returns its folder.

    Its questions are project_name (text), flavour (plain|spicy) and ci
    (github|gitlab, refusing gitlab with spicy); it renders `app.py`.
    """
    counter = iter(range(1000))

    def make(files: dict[str, str] | None = None, copier_yml: str = FAKE_COPIER_YML) -> Path:
        root = tmp_path / f"template-{next(counter)}"
        (root / "template").mkdir(parents=True)
        (root / "copier.yml").write_text(copier_yml, encoding="utf-8")
        for name, text in {**FAKE_FILES, **(files or {})}.items():
            path = root / "template" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return make


@pytest.fixture
def newer_template(tmp_path: Path) -> Callable[[Callable[[Path], None]], Installed]:
    """Make the next release of the bundled template: `make(edit)` copies the template,
    lets *edit* change the copy's `template/` folder, and returns it as the next patch
    version of the installed one.
    """

    def make(edit: Callable[[Path], None]) -> Installed:
        current = installed_template()
        version = parse_version(current.version)
        folder = copy_template(current.folder, tmp_path / "template-next")
        edit(folder / "template")
        return Installed(folder, f"{version.major}.{version.minor}.{version.micro + 1}")

    return make


@pytest.fixture
def git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits by hand work without the machine's git configuration."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Team")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "team@example.com")
