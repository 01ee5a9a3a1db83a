"""Programs that run inside a generated project, with its packages and its `src` modules.

Nothing imports them here: `bench.service.Service` copies this folder into the project as
the package `bench_apps` and runs them there with `uv run --no-sync python -m
bench_apps.<name>`. apiforge's own environment has neither FastAPI, SQLAlchemy, asyncpg and
uvicorn nor the project's `src`, so mypy sees those as `Any` (see pyproject.toml).

`seed` inserts the users. The servers take `PORT LOOP HTTP [FLAGS...]` and serve on
127.0.0.1: `patched_service` is the generated service with changes that settings cannot
express; `reference_orm` and `reference_raw` do the lookup of `GET /api/users/me` for
scale, through the ORM without a gate and through the raw driver.
"""
