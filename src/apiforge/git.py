"""A thin, typed wrapper over the git command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from apiforge.errors import UserError

__all__ = ["Git", "GitError"]

FALLBACK_IDENTITY = ("apiforge", "apiforge@localhost")


class GitError(UserError):
    """A git command failed."""


class Git:
    """Run git commands in one work tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        if shutil.which("git") is None:
            raise UserError(
                "git is not installed; install it (`apiforge new --no-git` works without it)."
            )

    def attempt(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a git command whose failure the caller handles; its exit code and output."""
        return subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        result = self.attempt(*args, env=env)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            reason = detail[-1] if detail else f"exit code {result.returncode}"
            raise GitError(f"git {args[0]} failed: {reason}")
        return result.stdout

    def run_bytes(self, *args: str) -> bytes:
        """Run a git command whose output is not text (a file's content, an archive)."""
        result = subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=False)
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            reason = detail[-1] if detail else f"exit code {result.returncode}"
            raise GitError(f"git {args[0]} failed: {reason}")
        return result.stdout

    def ok(self, *args: str) -> bool:
        """Run a git command and say whether it succeeded."""
        result = subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=False)
        return result.returncode == 0

    def identity_args(self) -> list[str]:
        """`-c` options giving a commit identity when the user has none configured."""
        # One git call for both (a configured value's last line wins, as `git config` reads).
        found = self.run("config", "--get-regexp", r"^user\.(name|email)$", check=False)
        values: dict[str, str] = {}
        for line in found.splitlines():
            key, _, value = line.partition(" ")
            values[key] = value
        name = values.get("user.name", "").strip()
        email = values.get("user.email", "").strip()
        if name and email:
            return []
        return [
            "-c",
            f"user.name={name or FALLBACK_IDENTITY[0]}",
            "-c",
            f"user.email={email or FALLBACK_IDENTITY[1]}",
        ]

    def commit_all(self, message: str) -> None:
        self.run("add", "--all")
        self.run(*self.identity_args(), "commit", "--quiet", "--no-verify", "-m", message)

    def is_repo(self) -> bool:
        return self.ok("rev-parse", "--is-inside-work-tree")

    def is_dirty(self) -> bool:
        return bool(self.run("status", "--porcelain").strip())

    def current_branch(self) -> str:
        return self.run("rev-parse", "--abbrev-ref", "HEAD").strip()
