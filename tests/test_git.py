"""The git wrapper's commit identity: the user's, or apiforge's where git has none."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from apiforge.git import FALLBACK_IDENTITY, Git


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("[user]\n\tname = Ada L\n\temail = ada@example.com\n", []),
        (
            "",
            ["-c", f"user.name={FALLBACK_IDENTITY[0]}", "-c", f"user.email={FALLBACK_IDENTITY[1]}"],
        ),
        (
            "[user]\n\tname = Ada\n",
            ["-c", "user.name=Ada", "-c", f"user.email={FALLBACK_IDENTITY[1]}"],
        ),
        (
            "[user]\n\tname = Old\n\tname = New\n",
            ["-c", "user.name=New", "-c", f"user.email={FALLBACK_IDENTITY[1]}"],
        ),
    ],
)
def test_identity_args_fill_in_only_what_git_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, expected: list[str]
) -> None:
    (tmp_path / "gitconfig").write_text(config, encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repository = tmp_path / "repository"
    repository.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=repository, check=True)
    assert Git(repository).identity_args() == expected
