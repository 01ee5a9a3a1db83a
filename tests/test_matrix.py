"""Answer matrices built from small copier.yml files: counts, pairs, `when:`, validators."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from apiforge.answers import check_answers
from apiforge.errors import UsageError
from apiforge.matrix import Matrix, build_matrix
from apiforge.template import (
    bundled_template_dir,
    load_config,
    load_questions,
    template_environment,
)


def _matrix(tmp_path: Path, copier_yml: str, kind: str, **data: Any) -> Matrix:
    (tmp_path / "copier.yml").write_text(copier_yml, encoding="utf-8")
    questions = load_questions(tmp_path)
    pinned = check_answers(questions, data)
    env = template_environment(load_config(tmp_path))
    return build_matrix(questions, kind, data=pinned, env=env)


def _answers(matrix: Matrix) -> list[dict[str, Any]]:
    return [dict(item.answers) for item in matrix.combinations]


FOUR_AXES = """
_subdirectory: template
project_name:
  type: str
  default: demo
database:
  type: str
  choices: [sqlite, postgresql, mysql]
  default: sqlite
ci:
  type: str
  choices:
    GitHub Actions: github
    GitLab CI: gitlab
    None: none
  default: github
python_version:
  type: str
  choices: ["3.11", "3.12", "3.13"]
  default: "3.12"
docker:
  type: bool
  default: false
"""


def _pairs(rows: list[dict[str, Any]]) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    found: set[tuple[tuple[str, Any], tuple[str, Any]]] = set()
    for row in rows:
        items = sorted(row.items())
        found.update(itertools.combinations(items, 2))
    return found


def test_default_is_one_combination_of_the_defaults(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, FOUR_AXES, "default")
    assert _answers(matrix) == [
        {"database": "sqlite", "ci": "github", "python_version": "3.12", "docker": False}
    ]
    # Free-text questions are no axes; their defaults reach the template's context.
    assert [axis.name for axis in matrix.axes] == ["database", "ci", "python_version", "docker"]
    assert matrix.combinations[0].context["project_name"] == "demo"
    assert "project_name" not in matrix.combinations[0].data


def test_full_is_the_cartesian_product(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, FOUR_AXES, "full")
    assert len(matrix.combinations) == 3 * 3 * 3 * 2
    assert len({tuple(row.items()) for row in _answers(matrix)}) == 54
    assert [item.index for item in matrix.combinations] == list(range(1, 55))


def test_pairwise_covers_every_pair_with_few_combinations(tmp_path: Path) -> None:
    full = _matrix(tmp_path, FOUR_AXES, "full")
    pairwise = _matrix(tmp_path, FOUR_AXES, "pairwise")
    assert _pairs(_answers(pairwise)) == _pairs(_answers(full))
    # 3 x 3 values need at least 9 rows; greedy stays close to that.
    assert 9 <= len(pairwise.combinations) <= 12
    # The defaults are always among them, and the choice is deterministic.
    default = _answers(_matrix(tmp_path, FOUR_AXES, "default"))[0]
    assert default in _answers(pairwise)
    assert _answers(pairwise) == _answers(_matrix(tmp_path, FOUR_AXES, "pairwise"))


def test_pairwise_with_one_axis_covers_each_value(tmp_path: Path) -> None:
    config = "database:\n  type: str\n  choices: [sqlite, postgresql]\n  default: sqlite\n"
    assert _answers(_matrix(tmp_path, config, "pairwise")) == [
        {"database": "sqlite"},
        {"database": "postgresql"},
    ]


def test_a_template_without_axes_has_one_combination(tmp_path: Path) -> None:
    config = "project_name:\n  type: str\n  default: demo\n"
    for kind in ("default", "pairwise", "full"):
        matrix = _matrix(tmp_path, config, kind)
        assert _answers(matrix) == [{}]
        assert matrix.combinations[0].label == "defaults"


WHEN = """
database:
  type: str
  choices: [sqlite, postgresql]
  default: sqlite
pool:
  type: str
  choices: [small, large]
  default: small
  when: "{{ database == 'postgresql' }}"
slug:
  type: str
  default: "{{ database }}-svc"
  when: false
"""


def test_a_follow_up_question_varies_only_where_it_is_asked(tmp_path: Path) -> None:
    expected = [
        {"database": "sqlite"},
        {"database": "postgresql", "pool": "small"},
        {"database": "postgresql", "pool": "large"},
    ]
    assert _answers(_matrix(tmp_path, WHEN, "full")) == expected
    assert _answers(_matrix(tmp_path, WHEN, "pairwise")) == expected
    # Computed answers (when: false) are rendered from the earlier ones.
    contexts = [item.context for item in _matrix(tmp_path, WHEN, "full").combinations]
    assert [context["slug"] for context in contexts] == ["sqlite-svc", *["postgresql-svc"] * 2]


VALIDATED = """
database:
  type: str
  choices: [sqlite, postgresql]
  default: sqlite
ci:
  type: str
  choices: [github, gitlab]
  default: github
  validator: >-
    {% if ci == 'gitlab' and database == 'sqlite' %}GitLab CI needs PostgreSQL.{% endif %}
docker:
  type: bool
  default: true
"""


def test_combinations_a_validator_refuses_are_kept_as_invalid(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, VALIDATED, "full")
    invalid = matrix.invalid
    # The refused branch is reported once, not once per later answer.
    assert [dict(item.answers) for item in invalid] == [{"database": "sqlite", "ci": "gitlab"}]
    assert invalid[0].invalid == "ci: GitLab CI needs PostgreSQL."
    assert len(matrix.valid) == 6


def test_pairwise_reports_the_pairs_only_invalid_combinations_hold(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, VALIDATED, "pairwise")
    reachable = _pairs([dict(item.answers) for item in _matrix(tmp_path, VALIDATED, "full").valid])
    assert _pairs([dict(item.answers) for item in matrix.valid]) == reachable
    assert [dict(item.answers) for item in matrix.invalid] == [
        {"database": "sqlite", "ci": "gitlab"}
    ]


def test_a_disabled_choice_makes_its_combinations_invalid(tmp_path: Path) -> None:
    config = """
database:
  type: str
  choices: [sqlite, postgresql]
  default: sqlite
ci:
  type: str
  default: none
  choices:
    GitHub: github
    Nothing: none
    GitLab:
      value: gitlab
      validator: "{% if database == 'sqlite' %}needs PostgreSQL{% endif %}"
"""
    matrix = _matrix(tmp_path, config, "full")
    assert [(dict(item.answers), item.invalid) for item in matrix.invalid] == [
        ({"database": "sqlite", "ci": "gitlab"}, "ci: needs PostgreSQL")
    ]
    assert len(matrix.valid) == 5


def test_data_pins_an_axis_and_answers_free_text(tmp_path: Path) -> None:
    matrix = _matrix(
        tmp_path, FOUR_AXES, "full", database="postgresql", docker="yes", project_name="billing"
    )
    assert [axis.name for axis in matrix.axes] == ["ci", "python_version"]
    assert len(matrix.combinations) == 9
    for item in matrix.combinations:
        assert item.data["database"] == "postgresql"
        assert item.data["docker"] is True
        assert item.data["project_name"] == "billing"
        assert "database" not in item.answers
    assert matrix.pinned == {"database": "postgresql", "docker": True, "project_name": "billing"}


@pytest.mark.parametrize(
    ("data", "message"),
    [({"colour": "red"}, "valid keys are"), ({"database": "oracle"}, "must be one of")],
)
def test_bad_data_is_a_usage_error(tmp_path: Path, data: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _matrix(tmp_path, FOUR_AXES, "full", **data)


def test_an_unknown_matrix_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="default, pairwise, full"):
        _matrix(tmp_path, FOUR_AXES, "everything")


def test_a_when_that_cannot_be_evaluated_is_a_usage_error(tmp_path: Path) -> None:
    config = 'a:\n  type: bool\n  default: true\n  when: "{{ 1 / 0 }}"\n'
    with pytest.raises(UsageError, match="when of a"):
        _matrix(tmp_path, config, "full")


def test_the_shipped_templates_pairwise_matrix_covers_every_python_and_database() -> None:
    folder = bundled_template_dir()
    questions = load_questions(folder)
    matrix = build_matrix(questions, "pairwise", env=template_environment(load_config(folder)))
    answers = {(item.answers["python_version"], item.answers["database"]) for item in matrix.valid}
    assert answers == set(itertools.product(["3.11", "3.12", "3.13"], ["sqlite", "postgresql"]))
    # The one pair copier.yml refuses: Kubernetes needs PostgreSQL.
    refused = {(item.answers["database"], item.answers["deploy"]) for item in matrix.invalid}
    assert refused == {("sqlite", "kubernetes")}
