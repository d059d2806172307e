"""``webhookload-target``: run the reference ingest service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading

from aiohttp import web

from engine.domain.durations import parse_duration
from engine.domain.signing import (
    DEFAULT_SIGNATURE_HEADER,
    SCHEMES,
    SECRET_ENV,
    SecretError,
    make_verifier,
)
from engine.domain.signing_base import SECRET_SEP
from engine.domain.statuses import CONTRACTS, TARGET_MODES
from target.profiles import PROFILES
from target.server import TargetConfig, build_app

READY_PREFIX = "webhookload-target listening on "
"""The first line on stdout once listening; ``engine.run.builtin_target`` waits for
it (the same text there: the target may import only the engine's domain)."""


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration like 20ms, got {text!r}") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def parse_args(argv: list[str] | None) -> TargetConfig:
    p = argparse.ArgumentParser(
        prog="webhookload-target",
        description="In-memory reference ingest service (CONTRACT.md) for demos and tests.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3001, help="0 picks a free port (default 3001)")
    p.add_argument(
        "--mode",
        choices=TARGET_MODES,
        default="sync",
        help="sync validates inline; queue answers 202 and applies after --lag",
    )
    p.add_argument("--contract", choices=CONTRACTS, default="ingest")
    p.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        default="strict",
        help="strict: a well-behaved receiver (409 on a replay); public: answers edge cases "
        "as the public service does (docs/TARGET.md)",
    )
    p.add_argument("--lag", type=_duration, default=0.05, help="queue mode apply lag (50ms)")
    p.add_argument("--delay", type=_duration, default=0.0, help="fixed latency per webhook")
    p.add_argument("--fail-rate", type=_fraction, default=0.0, help="fraction answered 503")
    p.add_argument(
        "--error-delay",
        type=_duration,
        default=None,
        help="wait before answering 500 (default: 300ms with --profile public, else 0)",
    )
    p.add_argument(
        "--sign",
        choices=SCHEMES,
        default=None,
        help="verify webhook signatures of this scheme (401 if missing, wrong or more "
        "than 5 minutes off; docs/SIGNING.md)",
    )
    p.add_argument(
        "--secret",
        default=None,
        action="append",
        help=f"signing secret, repeatable (a delivery signed by any one passes); prefer "
        f"the {SECRET_ENV} environment variable, one secret per line (a flag shows in "
        "process listings)",
    )
    p.add_argument(
        "--signature-header",
        default=DEFAULT_SIGNATURE_HEADER,
        help=f"header of --sign stripe (default {DEFAULT_SIGNATURE_HEADER}); other "
        "schemes keep their own",
    )
    p.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when stdin closes (how `--target builtin` ties us to its run)",
    )
    a = p.parse_args(argv)
    secret = SECRET_SEP.join(a.secret) if a.secret is not None else os.environ.get(SECRET_ENV, "")
    if a.sign is None:
        if a.secret is not None:
            p.error("--secret needs --sign NAME")
        secret = ""  # an inherited WEBHOOKLOAD_SECRET alone does not turn checking on
    else:
        if not secret:
            p.error(f"--sign {a.sign} needs a secret: set {SECRET_ENV} or pass --secret")
        try:  # fail now, not on the first request; the message never holds the secret
            make_verifier(a.sign, secret, a.signature_header)
        except SecretError as exc:
            p.error(f"--secret must be {exc}")
        except ValueError as exc:
            p.error(str(exc))
    return TargetConfig(
        host=a.host,
        port=a.port,
        mode=a.mode,
        contract=a.contract,
        lag=a.lag,
        delay=a.delay,
        fail_rate=a.fail_rate,
        exit_with_parent=a.exit_with_parent,
        profile=a.profile,
        sign=a.sign or "",
        secret=secret,
        signature_header=a.signature_header,
        error_delay=a.error_delay,
    )


async def serve(config: TargetConfig) -> None:
    runner = web.AppRunner(build_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=1024)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"{READY_PREFIX}http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if config.exit_with_parent:

        def watch_stdin() -> None:
            # Raw reads until EOF (the parent closed the pipe or died); a buffered
            # read would hold a lock that aborts the interpreter at exit.
            while os.read(sys.stdin.fileno(), 4096):
                pass
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        import uvloop

        runner: contextlib.AbstractContextManager[asyncio.Runner] = asyncio.Runner(
            loop_factory=uvloop.new_event_loop
        )
    except ImportError:
        runner = asyncio.Runner()
    try:
        with runner as r:
            r.run(serve(config))
    except OSError as exc:
        print(
            f"webhookload-target: cannot listen on {config.host}:{config.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
