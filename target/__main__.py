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

HAND_WRITTEN = ("ingest", "plan", "payments")
"""The built-in scenarios served by the hand-written service (target/server.py,
target/payments.py, with ``--profile public`` as measured); any other is read
from its file (target/scenario_app.py)."""

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
        default=None,
        help="sync validates inline; queue answers 202 and applies after --lag",
    )
    p.add_argument("--contract", choices=CONTRACTS, default=None, help="payload field names")
    p.add_argument(
        "--scenario",
        default=None,
        metavar="NAME|PATH",
        help="receive this scenario: ingest, plan and payments are the service's own "
        "(as --contract); any other built-in or file is read from the file (docs/TARGET.md)",
    )
    p.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        default=None,
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
    contract, scenario = a.contract or "ingest", a.scenario
    if scenario in HAND_WRITTEN:  # the service's own webhooks, as --contract
        if a.contract is not None:
            p.error("--scenario and --contract: give one (--contract ingest is --scenario ingest)")
        contract, scenario = scenario if scenario in CONTRACTS else "ingest", None
    elif scenario is not None:
        ingests = (("--contract", a.contract), ("--mode", a.mode), ("--profile", a.profile))
        for flag, value in ingests:
            if value not in (None, "sync", "strict") or (flag == "--contract" and value):
                p.error(f"{flag} {value}: a scenario file is received sync and strict")
    return TargetConfig(
        host=a.host,
        port=a.port,
        mode=a.mode or "sync",
        contract=contract,
        scenario=scenario or "",
        lag=a.lag,
        delay=a.delay,
        fail_rate=a.fail_rate,
        exit_with_parent=a.exit_with_parent,
        profile=a.profile or "strict",
        sign=a.sign or "",
        secret=secret,
        signature_header=a.signature_header,
        error_delay=a.error_delay,
    )


def _scenario_app(config: TargetConfig) -> web.Application:
    """The app of a scenario file; a file it cannot receive exits 2 with its one line."""
    from engine.errors import UsageError
    from engine.scenario.compiler import compile_scenario
    from engine.scenario.loader import load_scenario
    from engine.scenario.receiver import receiver_for, unsigned_refusal
    from target.scenario_app import build_scenario_app

    try:
        receiver = receiver_for(compile_scenario(load_scenario(config.scenario)))
        why = unsigned_refusal(receiver, config.sign)
        if why is not None:
            raise UsageError(f"--scenario {config.scenario} needs --sign: {why} (docs/TARGET.md)")
    except UsageError as exc:
        print(f"webhookload-target: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return build_scenario_app(config, receiver)


async def serve(config: TargetConfig, app: web.Application | None = None) -> None:
    app = app if app is not None else build_app(config)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
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
    app = _scenario_app(config) if config.scenario else None  # read before listening
    try:
        import uvloop

        runner: contextlib.AbstractContextManager[asyncio.Runner] = asyncio.Runner(
            loop_factory=uvloop.new_event_loop
        )
    except ImportError:
        runner = asyncio.Runner()
    try:
        with runner as r:
            r.run(serve(config, app))
    except OSError as exc:
        print(
            f"webhookload-target: cannot listen on {config.host}:{config.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
