"""Serve an app the way the benchmark starts its servers: `PORT LOOP HTTP [FLAGS...]`."""

import sys
from typing import Any

import uvicorn


def flags() -> list[str]:
    """The words after PORT LOOP HTTP on the command line."""
    return sys.argv[4:]


def serve(app: Any) -> None:
    """One uvicorn worker on 127.0.0.1, with no access log and the loop and parser asked for."""
    port, loop, http_parser = sys.argv[1:4]
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(port),
        access_log=False,
        log_level="warning",
        loop=loop,
        http=http_parser,
    )
