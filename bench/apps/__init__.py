"""Programs the benchmark runs as servers and set-up steps, each in another environment.

Nothing imports them here. `bench.service.Service` copies this folder into a generated
project as the package `bench_apps` and runs them there with `uv run --no-sync python -m
bench_apps.<name>`; `bench.references.FastapiUsersApp` copies it into a folder of its own
and runs `fastapi_users_app` with the Python of the environment it made for fastapi-users.
apiforge's own environment has none of FastAPI, SQLAlchemy, asyncpg, uvicorn, PyJWT and
fastapi-users, nor the project's `src`, so mypy sees those as `Any` (see pyproject.toml;
PyJWT and fastapi-users are marked where they are imported).

`seed` inserts the users. The servers take `PORT LOOP HTTP [FLAGS...]` and serve on
127.0.0.1: `patched_service` is the generated service with changes that settings cannot
express; `reference_raw` does the lookups of `GET /api/users/me` and `GET /api/users` with
FastAPI, a raw asyncpg pool and PyJWT; `reference_orm` does the first through the ORM
without a gate; `fastapi_users_app` is fastapi-users set up as its documentation shows.
"""
