"""The yardstick for the public site: a bare Starlette app returning one static page of a given
size, under uvicorn with the options `planbot serve` uses.

    python -m bench.bare_static --port P --size BYTES
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build(size: int) -> Starlette:
    page = (b"<!doctype html><html lang=en><title>x</title><p>" + b"x" * size)[:size]

    async def static(_request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/{path:path}", static, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args()
    config = uvicorn.Config(
        build(args.size),
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=True,
        access_log=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
