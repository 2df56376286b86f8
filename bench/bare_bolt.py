"""The yardstick for throughput: a bare Bolt app that only acknowledges `/plan`.

The same stack as `planbot serve` in HTTP mode (Bolt's AsyncApp, the Starlette adapter, uvicorn
with the same options) and the same signing secret, with nothing behind the acknowledgement.
Its Web API client points at SLACK_API_URL (the stand-in), so that Bolt's one `auth.test` per
process goes to the same place as Plan Bot's.

    SLACK_SIGNING_SECRET=… SLACK_BOT_TOKEN=… SLACK_API_URL=… python -m bench.bare_bolt --port P
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build(signing_secret: str, token: str, api_url: str) -> Starlette:
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        raise_error_for_unhandled_request=False,
    )

    @app.command("/plan")
    async def plan(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/slack/events", events, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asgi = build(
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ.get("SLACK_BOT_TOKEN", "xoxb-bare-bolt"),
        os.environ["SLACK_API_URL"],
    )
    # The options `planbot serve` gives uvicorn (bot/server.py).
    config = uvicorn.Config(
        asgi,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=True,
        access_log=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
