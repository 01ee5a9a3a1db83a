from __future__ import annotations

from pathlib import Path

import pytest

from apiforge.answers import check_answers, parse_data, read_data_file
from apiforge.errors import UsageError
from apiforge.template import Question, bundled_template_dir, load_questions


def _question(name: str, type_: str = "str", choices: tuple[str, ...] = ()) -> Question:
    return Question(name=name, type=type_, help="", default=None, choices=choices, asked=True)


def test_parse_data_splits_on_the_first_equals_sign() -> None:
    assert parse_data(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}


@pytest.mark.parametrize("pair", ["novalue", "=value"])
def test_parse_data_refuses_pairs_without_a_key(pair: str) -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_data([pair])


def test_unknown_keys_list_the_valid_ones() -> None:
    with pytest.raises(UsageError, match="Unknown answer colour; valid keys are: database, name"):
        check_answers([_question("name"), _question("database")], {"colour": "red"})


def test_choices_and_types_are_checked() -> None:
    questions = [
        _question("database", choices=("sqlite", "postgresql")),
        _question("docs", "bool"),
        _question("workers", "int"),
    ]
    assert check_answers(questions, {"docs": "yes", "workers": "4"}) == {"docs": True, "workers": 4}
    with pytest.raises(UsageError, match="one of sqlite, postgresql"):
        check_answers(questions, {"database": "mysql"})
    with pytest.raises(UsageError, match="true or false"):
        check_answers(questions, {"docs": "maybe"})
    with pytest.raises(UsageError, match="takes a number"):
        check_answers(questions, {"workers": "four"})


def test_data_file_reads_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "answers.yml"
    path.write_text("database: postgresql\n_commit: v1\n", encoding="utf-8")
    assert read_data_file(path) == {"database": "postgresql"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("key: [", "not valid YAML"), ("- a\n- b\n", "must hold a mapping")],
)
def test_broken_data_files_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "answers.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        read_data_file(path)


def test_missing_data_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Cannot read"):
        read_data_file(tmp_path / "nope.yml")


def test_bundled_questions_are_read_without_copier() -> None:
    questions = {question.name: question for question in load_questions(bundled_template_dir())}
    assert questions["database"].choices == ("sqlite", "postgresql")
    assert questions["python_version"].choices == ("3.11", "3.12", "3.13")
    assert not questions["project_slug"].asked
