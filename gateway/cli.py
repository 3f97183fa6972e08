"""Commands: ``serve`` (the gateway), ``schema`` (the SDL), ``sandbox`` (the fake upstream)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from gateway.config import LogSettings, Settings, SettingsError
from gateway.lifecycle import GatewayServer
from gateway.observability.logs import configure_logging, install_redaction, logging_config

log = logging.getLogger("gateway")


def startup_summary(settings: Settings) -> str:
    """One line saying how this gateway runs, with no secret in it."""
    mode = "sandbox" if settings.sandbox else "live"
    upstream = "in-process sandbox" if settings.sandbox else settings.kombo_base_url
    return (
        f"kombo-gateway {mode}: upstream {upstream}, auth {settings.auth}, "
        f"listening on {settings.host}:{settings.port}, workers {settings.workers}"
    )


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import create_app, default_integration
    from gateway.heap import settle_for_serving
    from gateway.http.server_protocol import ServerConfig, raise_descriptor_limit
    from gateway.http.workers import DealingSupervisor
    from gateway.observability.metrics import prepare_multiprocess_dir

    env = dict(os.environ)
    if args.host:
        env["HOST"] = args.host
    if args.port is not None:
        env["PORT"] = str(args.port)
    if args.workers is not None:
        env["GATEWAY_WORKERS"] = args.workers
    try:
        settings = Settings.from_env(env)
        app = create_app(settings)  # checks the JWT key, the manifest, the sandbox's faults
    except SettingsError as exc:
        print(f"kombo-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.workers == 1:
        settle_for_serving()  # the process's startup heap, frozen (workers: app_from_environment)
    if settings.sandbox:
        fallback = default_integration(settings) if settings.auth == "none" else None
        log.warning(
            "KOMBO_API_KEY is not set: serving the embedded sandbox upstream (fake data%s)",
            f", default integration {fallback}" if fallback else "",
        )
    log.info("%s", startup_summary(settings))
    log.info("GraphiQL at http://%s:%s/graphql", settings.host, settings.port)
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log.level,
        # The gateway's format (LOG_FORMAT) and redaction for uvicorn's lines, in every worker.
        "log_config": logging_config(settings.log.format, settings.log.level, settings.secrets()),
        "access_log": False,
        # uvicorn[standard]'s C event loop; the HTTP parser is httptools, bounded
        # (gateway.http.server_protocol: heads, read timeouts, a connection cap).
        "loop": "uvloop",
        # In-flight requests get this long to finish once shutdown starts.
        "timeout_graceful_shutdown": settings.shutdown_grace,
    }
    descriptors = raise_descriptor_limit()  # inherited by the workers
    try:
        # Each worker serves with the same configuration, pickled to it.
        config = ServerConfig(
            "gateway.app:app_from_environment" if settings.workers > 1 else app,
            limits=settings.connections,
            descriptors=descriptors,
            factory=settings.workers > 1,
            workers=settings.workers,
            **common,
        )
    except ValueError as exc:
        print(f"kombo-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    log.info(
        "connections: at most %d per worker (%d file descriptors), idle ones closed after %gs",
        config.max_connections,
        descriptors,
        settings.connections.keepalive_timeout,
    )
    prepare_multiprocess_dir(os.environ, settings.workers)  # /metrics sums every worker's
    if settings.workers > 1:
        # Each worker builds its own app (and upstream client) from the same environment.
        os.environ.update(
            {"HOST": settings.host, "PORT": str(settings.port), "GATEWAY_WORKERS": "1"}
        )
        install_redaction(settings.secrets())
        # The supervisor accepts and deals the connections to the workers in turn
        # (gateway.http.workers). Each worker shuts down gracefully (the grace period) with no
        # drain period: that is for the single-process mode that containers use (one worker
        # per pod, replicas for scale).
        DealingSupervisor(config, config.bind_socket()).run()
        return 0
    server = GatewayServer(config, drain_seconds=settings.drain_seconds)
    install_redaction(settings.secrets())  # uvicorn has configured its loggers by now
    server.run()
    return 0


def _schema(_args: argparse.Namespace) -> int:
    from gateway.schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.sandbox.app import create_sandbox_app
    from gateway.sandbox.webhooks import WebhookTarget

    faults = [name.strip() for name in (args.faults or "").split(",") if name.strip()]
    webhooks = None
    if args.webhook_url:
        webhooks = WebhookTarget(args.webhook_url, os.environ.get("SANDBOX_WEBHOOK_SECRET"))
    try:
        app = create_sandbox_app(
            api_key=args.api_key,
            latency=args.latency,
            max_in_flight=args.max_in_flight,
            faults=faults,
            webhooks=webhooks,
            change_every=args.change_every,
        )
    except ValueError as exc:
        print(f"kombo-gateway sandbox: {exc}", file=sys.stderr)
        return 2
    log.info("sandbox upstream at http://%s:%s/v1", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kombo-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL gateway")
    serve.add_argument("--host", help="listen address (env HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (env PORT, default 8000)")
    serve.add_argument("--workers", help="worker processes (env GATEWAY_WORKERS, default 1)")
    serve.set_defaults(run=_serve)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(run=_schema)

    sandbox = commands.add_parser("sandbox", help="run the sandbox upstream alone (tests, benches)")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8100)
    sandbox.add_argument("--api-key", help="the bearer key to require (default: any)")
    sandbox.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    sandbox.add_argument(
        "--max-in-flight",
        type=int,
        help="answer 429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED beyond N requests at once",
    )
    sandbox.add_argument(
        "--faults",
        help="standing fault scenarios, comma-separated: "
        "rate-limit, flaky, down, malformed, slow, hang, busy (see README, Trying failures)",
    )
    sandbox.add_argument(
        "--webhook-url",
        help="POST a data-changed webhook here after each edit, signed with the secret in env "
        "SANDBOX_WEBHOOK_SECRET when set (edits: POST /__sandbox/changes, --change-every)",
    )
    sandbox.add_argument(
        "--change-every", type=float, help="edit a few records every N seconds (default: never)"
    )
    sandbox.set_defaults(run=_sandbox)

    args = parser.parse_args(argv)
    try:
        log_settings = LogSettings.from_env(os.environ)
    except SettingsError as exc:
        print(f"kombo-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(log_settings.format, log_settings.level)
    return int(args.run(args))
