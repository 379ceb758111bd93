"""The baseline server: ``python -m bench.noop --host H --port P``.

A Starlette route at the callback path that reads the body and answers ``{"ok": true}``,
served by the same ``uvicorn.run`` call as ``receiver serve`` (one process, uvicorn's
default event loop and HTTP implementation, its access log off). Whatever the receiver does
beyond this floor (verify, parse, one durable transaction, its own access log) is what the
ratio against it measures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["app", "main"]


async def callback(request: Request) -> JSONResponse:
    # Any real endpoint must read the body; so does the floor we compare against.
    await request.body()
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/callbacks/evolink/{token}", callback, methods=["POST"])])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.noop", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    # Keep in step with receiver.cli._serve: the comparison is only fair with equal settings.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=30,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
