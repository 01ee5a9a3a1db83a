"""The generated service with changes that settings cannot express.

    python -m bench_apps.patched_service PORT LOOP HTTP [gate-off] [gc-freeze]

gate-off: the session checkout gate lets every request through (50 contend for the pool).
gc-freeze: `gc.freeze()` after start-up, so the collector skips the objects made so far.
"""

import asyncio
import gc

import src.db.session

from .serve import flags, serve


def main() -> None:
    if "gate-off" in flags():
        src.db.session.checkout_gate = asyncio.Semaphore(1_000_000)
    # Imported after the patch: src.api.deps takes the gate when it is imported.
    from src.main import app

    if "gc-freeze" in flags():
        gc.collect()
        gc.freeze()
    serve(app)


if __name__ == "__main__":
    main()
