"""Benchmark apiforge and the services it generates.

    uv run python -m bench                    # every figure
    uv run python -m bench --only load --quick
    uv run python -m bench --skip-load --skip-postgres
    uv run python -m bench --investigate      # also vary the service's settings

(`uv run python bench/run.py ...` is the same.) It measures how fast the CLI answers, how
long it takes from nothing to a green test run, how long the generated test suite takes,
and how a generated service holds up under load (wrk, one thread, 50 connections, one
uvicorn worker, on 127.0.0.1), on PostgreSQL side by side with reference apps doing the
same lookups. The targets are ratios to figures measured in the same run (a bare Python
start-up, importing copier, the reference apps), so a shared machine moves both sides.
Every figure is the median of several runs; the runs, the ratios and the machine go to a
JSON file in `bench/results/`. Nothing here asserts a timing: the benchmark reports, it
does not fail. bench/README.md says which module owns what.
"""
