"""Reading a template: copier.yml's questions and choices, copier's casting, staging, opening."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apiforge.answers import check_answers
from apiforge.errors import UsageError
from apiforge.template import (
    Choice,
    Question,
    Template,
    cast_answer,
    load_questions,
    staged_template,
    truthy,
)

MakeTemplate = Callable[..., Path]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def _commit_all(folder: Path, message: str, tag: str | None = None) -> None:
    subprocess.run([*GIT, "add", "--all"], cwd=folder, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=folder, check=True)
    if tag is not None:
        subprocess.run([*GIT, "tag", tag], cwd=folder, check=True)


CHOICES = """
plain:
  type: str
  choices: [a, b]
  default: a
pairs:
  type: int
  choices: [[One, 1], [Two, 2]]
  default: 1
labelled:
  type: str
  choices:
    SQLite: sqlite
    PostgreSQL:
      value: postgresql
      validator: "{% if plain == 'b' %}not with b{% endif %}"
  default: sqlite
templated:
  type: str
  choices: "{{ ['x', 'y'] }}"
derived:
  default: "{{ plain }}"
  when: false
"""


def test_choices_are_read_once_with_their_values_labels_and_validators(tmp_path: Path) -> None:
    (tmp_path / "copier.yml").write_text(CHOICES, encoding="utf-8")
    questions = {question.name: question for question in load_questions(tmp_path)}
    assert questions["plain"].options == (Choice("a", "a"), Choice("b", "b"))
    assert questions["pairs"].options == (Choice(1, "One"), Choice(2, "Two"))
    assert questions["pairs"].choices == ("1", "2")
    assert questions["labelled"].choices == ("sqlite", "postgresql")
    assert questions["labelled"].options[1] == Choice(
        "postgresql", "PostgreSQL", "{% if plain == 'b' %}not with b{% endif %}"
    )
    assert questions["labelled"].choice_text == "sqlite|postgresql"
    # Choices that copier renders when it asks are no fixed list.
    assert questions["templated"].choices == ()
    assert not questions["derived"].asked
    assert questions["derived"].when is False


def test_a_question_built_by_hand_gets_options_from_its_choices() -> None:
    question = Question("db", "str", "", None, ("sqlite", "postgresql"), asked=False)
    assert [option.value for option in question.options] == ["sqlite", "postgresql"]
    assert question.when is False
    assert not question.offered


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("yes", True),
        (" On ", True),
        ("t", True),
        ("2", True),
        ("no", False),
        ("off", False),
        ("~", False),
        ("null", False),
        ("0", False),
        ("", False),
        ("  ", False),
        (0, False),
    ],
)
def test_yes_and_no_read_as_copier_reads_them(value: Any, expected: bool) -> None:
    assert truthy(value) is expected
    assert truthy(value, strict=True) is expected


def test_only_strict_refuses_what_copier_reads_through_bool() -> None:
    assert truthy("maybe") is True
    assert truthy([]) is False
    with pytest.raises(ValueError, match="neither yes nor no"):
        truthy("maybe", strict=True)


def test_answers_and_copier_yml_values_are_cast_by_one_rule() -> None:
    def question(kind: str) -> Question:
        return Question("q", kind, "", None, (), asked=True)

    assert cast_answer(question("int"), "4") == 4
    assert cast_answer(question("float"), "1.5") == 1.5
    assert cast_answer(question("str"), 3.12) == "3.12"
    assert cast_answer(question("yaml"), "[a, b]") == ["a", "b"]
    assert cast_answer(question("yaml"), "[a, b") == "[a, b"
    assert cast_answer(question("int"), None) is None  # a question without a default
    with pytest.raises(ValueError, match="invalid literal"):
        cast_answer(question("int"), "four")
    with pytest.raises(TypeError):
        cast_answer(question("int"), None, strict=True)


def test_check_answers_takes_copiers_yes_and_no_and_refuses_anything_else() -> None:
    docs = Question("docs", "bool", "", True, (), asked=True)
    assert check_answers([docs], {"docs": "off"}) == {"docs": False}
    assert check_answers([docs], {"docs": "t"}) == {"docs": True}
    with pytest.raises(UsageError, match="docs takes true or false, got 'maybe'"):
        check_answers([docs], {"docs": "maybe"})


def test_a_template_knows_its_questions_and_renders_copier_yml_like_copier(
    fake_template: MakeTemplate,
) -> None:
    template = Template.load(fake_template())
    assert [question.name for question in template.questions] == ["project_name", "flavour", "ci"]
    ci = template.question("ci")
    assert ci is not None
    assert ci.choices == ("github", "gitlab")
    assert template.question("database") is None
    refusal = template.environment().from_string(ci.validator)
    assert refusal.render(ci="gitlab", flavour="spicy").strip()
    assert not refusal.render(ci="gitlab", flavour="plain").strip()
    assert template.check_answers({"flavour": "spicy"}) == {"flavour": "spicy"}
    with pytest.raises(UsageError, match="must be one of plain, spicy"):
        template.check_answers({"flavour": "sour"})


def test_a_folder_outside_git_is_rendered_where_it_is(fake_template: MakeTemplate) -> None:
    template = fake_template()
    with staged_template(template) as staged:
        assert staged == template


def test_a_git_work_tree_is_staged_as_it_is_on_disk_without_git_and_caches(
    fake_template: MakeTemplate,
) -> None:
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    _commit_all(template, "template")
    (template / "template" / "app.py.jinja").write_text("UNCOMMITTED = True\n")
    (template / ".venv").mkdir()
    (template / "notes.md").write_text("not part of the template\n")
    with staged_template(template) as staged:
        assert staged != template
        assert sorted(path.name for path in staged.iterdir()) == ["copier.yml", "template"]
        assert (staged / "template" / "app.py.jinja").read_text() == "UNCOMMITTED = True\n"
    assert not staged.exists()


def test_without_a_subdirectory_the_whole_folder_is_staged_but_git_and_caches(
    fake_template: MakeTemplate,
) -> None:
    template = fake_template(copier_yml="flavour: plain\n")
    (template / "README.md").write_text("the template's own file\n")
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    (template / ".mypy_cache").mkdir()
    with staged_template(template) as staged:
        names = sorted(path.name for path in staged.iterdir())
    assert names == ["README.md", "copier.yml", "template"]


def test_open_clones_a_git_url_once_and_reads_it(fake_template: MakeTemplate) -> None:
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    _commit_all(template, "template")
    url = f"file://{template}"
    with Template.open(url) as opened:
        assert opened.name == url
        assert opened.folder != template
        assert not (opened.folder / ".git").exists()
        assert opened.question("flavour") is not None
        assert opened.source.location == str(opened.folder)
        assert opened.previous is None
    assert not opened.folder.exists()


def test_open_with_a_ref_reads_the_earlier_version_too(fake_template: MakeTemplate) -> None:
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    _commit_all(template, "v1", tag="v1")
    with (template / "copier.yml").open("a") as file:
        file.write("docker:\n  type: bool\n  default: false\n")
    _commit_all(template, "v2")
    with Template.open(str(template), from_ref="v1") as opened:
        assert opened.question("docker") is not None
        assert opened.previous is not None
        assert opened.previous.question("docker") is None
        assert opened.previous.question("flavour") is not None
