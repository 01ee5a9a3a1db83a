"""Fixtures shared by apiforge's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from apiforge.pgserver import PostgresServer, PostgresUnavailable, throwaway_postgres
from apiforge.template_source import bundled_template_dir, staged_template

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
