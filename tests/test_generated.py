"""The shipped template's pairwise matrix, verified the way `apiforge verify` does it.

Each test is one combination of `build_matrix(..., "pairwise")`, run through
:func:`apiforge.verify.verify_combination`: rendered like `apiforge new`,
installed with uv and put through its gates (tests, lint, format check, strict
type check, migrations). PostgreSQL combinations use the session's throwaway
server. These are the slow tests; CI runs them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import IN_CI

from apiforge.matrix import Combination, build_matrix
from apiforge.report import tail
from apiforge.template import (
    TemplateSource,
    bundled_template_dir,
    load_config,
    load_questions,
    template_environment,
)
from apiforge.verify import CombinationResult, Status, verify_combination

pytestmark = pytest.mark.slow


def _pairwise() -> list[Any]:
    folder = bundled_template_dir()
    matrix = build_matrix(
        load_questions(folder), "pairwise", env=template_environment(load_config(folder))
    )
    params = []
    # A combination copier.yml refuses (sqlite with kubernetes) is tested as refused in
    # test_kubernetes.py; here every combination must pass its gates.
    for combination in matrix.valid:
        needs_server = combination.context.get("database") == "postgresql"
        params.append(
            pytest.param(
                combination,
                id=combination.label.replace(" ", ","),
                marks=[pytest.mark.postgres] if needs_server else [],
            )
        )
    return params


def _failure(result: CombinationResult) -> str:
    failed = result.failed_step
    if failed is None:
        return f"{result.combination.label}: {result.status.value}"
    return f"{result.combination.label}: {failed.name} failed\n{tail(failed.output, 80)}"


@pytest.mark.parametrize("combination", _pairwise())
def test_pairwise_combination_passes_its_gates(
    combination: Combination,
    template_dir: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    result = verify_combination(
        combination,
        TemplateSource(str(template_dir)),
        tmp_path,
        postgres=lambda: request.getfixturevalue("postgres"),
    )
    if result.status is Status.SKIPPED and IN_CI:
        # CI must prove every combination; a missing Python there is a failure.
        pytest.fail(f"CI could not run {combination.label}: {result.reason}")
    if result.status in (Status.SKIPPED, Status.INVALID):
        pytest.skip(f"{combination.label}: {result.reason}")
    assert result.status is Status.PASSED, _failure(result)
