"""``webhookload-tui``: flags, validation, exit codes; then the TUI or ``--no-ui``.

This module never imports Textual: ``--no-ui`` runs the engine with the plain
printer, and the app is imported only when the TUI is wanted.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from engine.config import CLIENTS, CONTRACTS, RunConfig, build_config
from engine.errors import EXIT_USAGE, WebhookloadError

EPILOG = """\
exit codes:
  0    the run completed
  1    the run could not be carried out (e.g. the builtin target failed to start)
  2    bad arguments (one line names the flag and what is expected)
  3    target unreachable (checked before any load is sent)
  4    --verify: sampled orders the service did not apply (Kafka mode)
  5    no request succeeded (every one failed, or none completed)
  6    a shard died mid-run (--workers, --backend ray): named, the rest stopped
  99   a --threshold failed, or --abort-on-fail ended the run (k6's code)
  130  interrupted (Ctrl+C; the summary of what ran is still printed)

When several apply: 130, then 99, then 5, then 4.

Thresholds: p50|p90|p95|p99|max<DURATION, errors<PERCENT%, rate>NUMBER, each
optionally for one endpoint: p99{endpoint=chargebacks}<50ms. Repeat --threshold
for several (or separate them with commas).

The plan's single-dash spellings work too: -target, -vus, -duration, -dispute-ratio.
Durations are Go-style: 500ms, 30s, 2m, 1m30s; --duration 0 runs until Ctrl+C.
"""

_SINGLE_DASH = re.compile(r"^-[a-z][a-z0-9-]+(=.*)?$")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def normalize_argv(argv: list[str]) -> list[str]:
    """Accept Go's ``-flag`` spellings by turning them into ``--flag``."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        out.append("-" + arg if _SINGLE_DASH.match(arg) else arg)
    return out


def package_version() -> str:
    """The installed package's version (pyproject.toml), for ``--version``."""
    try:
        return version("webhookload")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    d = RunConfig()
    p = _Parser(
        prog="webhookload-tui",
        description="Load-test a payment-webhook ingest service with realistic order "
        "lifecycles and chargeback disputes. Opens the TUI unless --no-ui is given.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add("--target", help=f"ingest service base URL, or 'builtin' (default {d.target})")
    add("--vus", help=f"virtual users, closed model (default {d.vus})")
    add("--duration", help="run time, Go-style; 0 = until Ctrl+C (default 30s)")
    add(
        "--dispute-ratio",
        dest="dispute_ratio",
        help=f"share of accepted successes that get a dispute (default {d.dispute_ratio})",
    )
    add("--think", help="pause between steps of a scenario; 0 = back to back (default 10ms)")
    add("--timeout", help="per-request timeout (default 5s)")
    add("--contract", help=f"payload field names: {', '.join(CONTRACTS)} (default {d.contract})")
    add("--client", help=f"HTTP transport: {', '.join(CLIENTS)} (default {d.client})")
    add("--http2", action="store_true", default=None, help="HTTP/2 (with --client httpx)")
    add("--seed", help="make the scenario choices reproducible")
    add(
        "--max-updates",
        dest="max_updates",
        help=f"bound on 'updated' steps per order (default {d.max_updates})",
    )
    add(
        "--read-ratio",
        dest="read_ratio",
        help="share of finished orders read back with GET /orders/{id} (default 0)",
    )
    add(
        "--target-mode",
        dest="target_mode",
        help="mode of the builtin target (with --target builtin): sync or queue (Kafka-like) "
        "(default sync)",
    )
    add(
        "--verify",
        metavar="N",
        help="after the run, check that N sampled finished orders reached their final "
        "status through the read API (Kafka mode answers 202 before it validates) (default 0)",
    )
    add(
        "--verify-wait",
        dest="verify_wait",
        help="how long --verify waits for the service to apply them (default 10s)",
    )
    add(
        "--read-api",
        dest="read_api",
        metavar="URL",
        help="read API base URL for --verify and --read-ratio (default: the target)",
    )
    add(
        "--threshold",
        dest="thresholds",
        metavar="EXPR",
        action="append",
        help="pass/fail criterion, repeatable: p99<250ms, errors<1%%, rate>100, "
        "p95{endpoint=chargebacks}<50ms; any failed one exits 99",
    )
    add(
        "--abort-on-fail",
        dest="abort_on_fail",
        action="store_true",
        default=None,
        help="end the run as soon as a --threshold fails (after 5s; max at once)",
    )
    add(
        "--workers",
        metavar="N",
        help="engine processes (shards), each with its own event loop, sharing the VUs; "
        "auto = one per core (default 1)",
    )
    add(
        "--backend",
        help="where the shards run: process (this machine) or ray (Ray actors, spread over "
        "a cluster; pip install 'webhookload[distributed]') (default process)",
    )
    add(
        "--ray-address",
        dest="ray_address",
        metavar="ADDR",
        help="--backend ray: auto (the running cluster) or ray://host:10001; "
        "unset = start a local Ray instance",
    )
    add("--json", metavar="PATH", help="write the summary as JSON to PATH at the end")
    add("--no-ui", action="store_true", help="run headless: progress on stderr, summary on stdout")
    add("--autostart", action="store_true", help="TUI: start the run at once")
    add("--exit-on-finish", action="store_true", help="TUI: quit shortly after the summary")
    add("--version", action="version", version=f"%(prog)s {package_version()}")
    return p


CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))
"""Every run setting is a flag of the same name (dashes for underscores)."""


def parse(argv: list[str]) -> tuple[argparse.Namespace, RunConfig]:
    """Parse and validate; a bad value exits 2 with one line naming the flag."""
    parser = build_parser()
    ns = parser.parse_args(normalize_argv(argv))
    try:
        config = build_config({f: getattr(ns, f) for f in CONFIG_FIELDS})
    except WebhookloadError as exc:
        parser.exit(exc.exit_code, f"{parser.prog}: error: {exc}\n")
    return ns, config


def main(argv: list[str] | None = None) -> int:
    ns, config = parse(sys.argv[1:] if argv is None else argv)
    if ns.no_ui:
        from tui.headless import run_headless

        return run_headless(config, json_path=ns.json)
    from tui.app import run_app

    return run_app(
        config, json_path=ns.json, autostart=ns.autostart, exit_on_finish=ns.exit_on_finish
    )


if __name__ == "__main__":
    sys.exit(main())
