"""The gateway as ``serve`` runs it, with an in-memory change feed the tests publish to.

``python -m tests.support.live_gateway`` reads the same environment as ``python -m gateway
serve`` (one worker), builds ``create_app(settings, live=MemoryFeed())`` and serves it as
``serve`` does (the gateway's HTTP protocol, connection limits, uvloop, and its server class,
whose SIGTERM shutdown closes subscribers first), plus two routes of
its own that only this test server has:

- ``POST /__test__/live/publish`` ``{"integration_id", "model", "record", "repeat"?}``: the raw
  Kombo record to every subscriber of that integration and model (``repeat`` times at once, to
  overflow a subscriber's queue); answers ``{"reached": n}``;
- ``GET /__test__/live/subscribers``: ``{"count": n}``, the feed's open subscriptions.

So the tests decide what changes and when, and wait on the subscriber count instead of sleeping.
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.server_protocol import ServerConfig, raise_descriptor_limit
from gateway.lifecycle import GatewayServer
from gateway.observability.logs import install_redaction, logging_config
from tests.support.live_feed import MemoryFeed

PUBLISH = "/__test__/live/publish"
SUBSCRIBERS = "/__test__/live/subscribers"


def main() -> None:
    settings = Settings.from_env(os.environ)
    queue_size = int(os.environ.get("TEST_LIVE_QUEUE_SIZE", "8"))
    feed = MemoryFeed(queue_size=queue_size)
    app = create_app(settings, live=feed)

    async def publish(request: Request) -> Response:
        body = await request.json()
        reached = 0
        for _ in range(int(body.get("repeat", 1))):
            reached = feed.publish(body["integration_id"], body["model"], body["record"])
        return JSONResponse({"reached": reached})

    async def subscribers(_request: Request) -> Response:
        return JSONResponse({"count": feed.subscriber_count()})

    app.router.routes[:0] = [
        Route(PUBLISH, publish, methods=["POST"]),
        Route(SUBSCRIBERS, subscribers),
    ]
    # As `serve` configures its server (gateway/cli.py): the gateway's HTTP protocol and its
    # connection limits, uvloop, the shutdown grace.
    config = ServerConfig(
        app,
        limits=settings.connections,
        descriptors=raise_descriptor_limit(),
        host=settings.host,
        port=settings.port,
        log_level=settings.log.level,
        log_config=logging_config(settings.log.format, settings.log.level, settings.secrets()),
        access_log=False,
        loop="uvloop",
        timeout_graceful_shutdown=settings.shutdown_grace,
    )
    server = GatewayServer(config, drain_seconds=settings.drain_seconds)
    install_redaction(settings.secrets())
    server.run()


if __name__ == "__main__":
    main()
