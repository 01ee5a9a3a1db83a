"""Benchmark apiforge and the services it generates.

    uv run python bench/run.py                # every figure, about 6 minutes
    uv run python bench/run.py --quick        # fewer runs and shorter load, about 3 minutes
    uv run python bench/run.py --skip-load --skip-postgres
    uv run python bench/run.py --investigate  # also vary the service's settings, 10 more

(`uv run python -m bench ...` is the same.) It measures how fast the CLI answers, how
long it takes from nothing to a green test run, how long the generated test suite takes,
and how a generated service holds up under load (wrk, one uvicorn worker, 50 connections,
on 127.0.0.1). Every figure is the median of several runs; the runs, the targets and the
machine go to a JSON file in `bench/results/`. Nothing here asserts a timing: the
benchmark reports, it does not fail. bench/README.md says which module owns what.
"""
