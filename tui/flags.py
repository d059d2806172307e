"""``webhookload-tui``'s flags: the parser, its groups and help, and the exit-code table.

Apart from tui/cli.py (which parses, validates and runs) so each reads in
one sitting. Never imports Textual: ``--no-ui`` builds this parser too.
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from engine.config import CLIENTS, RunConfig
from engine.domain.signing import DEFAULT_SIGNATURE_HEADER, SCHEMES, SECRET_ENV
from engine.errors import EXIT_USAGE

EPILOG = """\
exit codes:
  0    the run completed
  1    the run could not be carried out (e.g. the builtin target failed to start)
  2    bad arguments (one line names the flag and what is expected)
  3    target (or --read-api) unreachable (checked before any load is sent)
  4    --verify: sampled flow runs (ingest: orders, disputes) not in their final status
  5    no request succeeded (every one failed, or none completed)
  6    a shard died mid-run, or was not ready in time (--workers, --backend ray): named
  99   a --threshold failed, or --abort-on-fail ended the run (k6's code)
  130  interrupted (Ctrl+C; the summary of what ran is printed, a 2nd Ctrl+C: at once)
  143  terminated (SIGTERM: CI cancelling, timeout, docker stop; --no-ui stops as on Ctrl+C)

When several apply: 130, then 99, then 5, then 4. (143 ranks as 130.)

Compare two --json summaries (a gate between two builds of the service):
  webhookload-tui compare BASE.json NEW.json [--max-regression 10%]
prints rate, error rate and p50/p95/p99 (overall and per endpoint) side by
side; exits 99 when NEW is worse than BASE beyond the tolerance, 0 when not,
2 on bad input. See: webhookload-tui compare --help

Thresholds: p50|p90|p95|p99|max<DURATION, errors<PERCENT%, rate>NUMBER, each
optionally for one endpoint: p99{endpoint=chargebacks}<50ms. Repeat --threshold
for several (or separate them with commas).

The plan's single-dash spellings work too: -target, -vus, -duration, -dispute-ratio.
Durations are Go-style: 500ms, 30s, 2m, 1m30s; --duration 0 runs until Ctrl+C.
"""

_NEGATIVE = re.compile(r"^-\.?\d")
_SINGLE_DASH = re.compile(r"^-[a-z][a-z0-9-]+(=.*)?$")
ALIASES = {"--api": "--read-api"}
"""Other spellings of a flag (the user's later tool reads with ``-api URL``)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def normalize_argv(argv: list[str]) -> list[str]:
    """Accept Go's ``-flag`` spellings by turning them into ``--flag``, and
    :data:`ALIASES`."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        arg = "-" + arg if _SINGLE_DASH.match(arg) else arg
        name, eq, value = arg.partition("=")
        if out and _NEGATIVE.match(arg) and out[-1].startswith("--") and "=" not in out[-1]:
            # argparse takes "-1s" for an option and answers "expected one argument";
            # joined, the flag's own validator says what is expected instead
            out[-1] += "=" + arg
            continue
        out.append(ALIASES.get(name, name) + eq + value)
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
        usage="%(prog)s [options]\n"
        "       %(prog)s compare BASE.json NEW.json [--max-regression 10%%]\n"
        "       %(prog)s scenarios [show NAME | check PATH]",
        description="Load-test a payment-webhook ingest service with realistic order "
        "lifecycles and chargeback disputes. Opens the TUI unless --no-ui is given. "
        "The compare subcommand sets two --json summaries side by side.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add(
        "--target",
        help="ingest service base URL, or 'builtin' (default "
        f"{d.target}); a path prefix (http://host/hooks) and a query "
        "(?token=abc) are kept: the query goes after each endpoint's path",
    )
    add("--vus", help=f"virtual users, closed model (default {d.vus})")
    add(
        "--rate",
        help="open model: order journeys started per second, fractional allowed, "
        "however fast earlier ones finish (instead of --vus)",
    )
    add(
        "--max-inflight",
        dest="max_inflight",
        metavar="N",
        help=f"with --rate: journeys in flight at most; an arrival beyond is dropped "
        f"and counted, never delayed (default {d.max_inflight})",
    )
    add(
        "--stages",
        metavar="STAGES",
        help="ramp, e.g. 30s:10,1m:100,30s:0: each stage goes linearly to its target (VUs, "
        "or journeys/s with --rate) over its duration, from --vus/--rate or 0; the run "
        "lasts their sum (no --duration)",
    )
    add("--duration", help="run time, Go-style; 0 = until Ctrl+C (default 30s)")
    add(
        "--dispute-ratio",
        dest="dispute_ratio",
        help="share of accepted successes that get a dispute (a scenario's dispute_ratio "
        f"param: ingest, plan) (default {d.dispute_ratio})",
    )
    add("--think", help="pause between steps of a scenario; 0 = back to back (default 10ms)")
    add("--timeout", help="per-request timeout (default 5s)")
    add(
        "--grace",
        help="at the deadline, requests in flight may finish this long; those that do "
        "count apart, the rest are cancelled (default 1s; 0 = cancel at once)",
    )
    add(
        "--contract",
        help="the same as --scenario ingest (the payment manager's own field names) or "
        f"--scenario plan (this tool's original design document's) (default {d.contract})",
    )
    add(
        "--scenario",
        metavar="NAME|PATH",
        help="a scenario file (docs/SCENARIOS.md), or a built-in's name "
        "(webhookload-tui scenarios lists them; default ingest, as --contract)",
    )
    add("--client", help=f"HTTP transport: {', '.join(CLIENTS)} (default {d.client})")
    add("--http2", action="store_true", default=None, help="HTTP/2 (with --client httpx)")
    add("--seed", help="make the scenario choices reproducible")
    add(
        "--max-updates",
        dest="max_updates",
        help="bound on entries into a state per flow run, the file's max_repeats (ingest: "
        f"'updated' steps per order; 0: none) (default {d.max_updates})",
    )
    add(
        "--read-ratio",
        dest="read_ratio",
        help="share of finished flow runs read back by their read URL (ingest: GET "
        "/orders/{id}) (default 0)",
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
        help="after the run, check that N sampled finished flow runs (ingest: orders) reached "
        "their final status through the read API (Kafka mode answers 202 before it "
        "validates) (default 0)",
    )
    add(
        "--verify-wait",
        dest="verify_wait",
        help="how long --verify waits for the service to apply them (default 10s)",
    )
    add(
        "--visibility",
        metavar="N",
        help="follow N accepted flow runs (ingest: orders) and time how long until the read "
        "API shows their final status (Kafka/queue mode applies after its 202) (default 0)",
    )
    add(
        "--read-api",
        dest="read_api",
        metavar="URL",
        help="read API base URL for --verify and --read-ratio (default: the target; "
        "a path prefix and a query are kept as for --target); --api and -api are aliases",
    )
    add(
        "--read-mix",
        dest="read_mix",
        metavar="id|api",
        help="--read-ratio reads: id = a flow run's own read (ingest: GET /orders/{id}); "
        "api = that and the file's read lists in turn (ingest: /orders?limit=10, "
        "/orders/events?limit=10) (default id)",
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
    _add_delivery_flags(p)
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
        help="--backend ray: auto (the running cluster), the head's HOST:PORT or ray://host:10001; "
        "unset = start a local Ray instance",
    )
    add("--json", metavar="PATH", help="write the summary as JSON to PATH at the end")
    _add_output_flags(p)
    add("--no-ui", action="store_true", help="run headless: progress on stderr, summary on stdout")
    add("--autostart", action="store_true", help="TUI: start the run at once")
    add("--exit-on-finish", action="store_true", help="TUI: quit shortly after the summary")
    add("--version", action="version", version=f"%(prog)s {package_version()}")
    return p


def _add_delivery_flags(p: argparse.ArgumentParser) -> None:
    """Delivering like a provider: signatures and extra headers (README, "Delivering
    like a provider")."""
    g = p.add_argument_group("delivering like a provider")
    g.add_argument(
        "--sign",
        metavar="SCHEME",
        help=f"sign every webhook: {', '.join(SCHEMES)} (docs/SIGNING.md; secret from "
        f"{SECRET_ENV}, or --secret)",
    )
    g.add_argument(
        "--secret",
        action="append",
        help="signing secret, repeatable: while a secret rolls every request carries one "
        f"signature per secret; prefer the {SECRET_ENV} environment variable, one secret "
        "per line (a flag shows in process listings)",
    )
    g.add_argument(
        "--signature-header",
        dest="signature_header",
        metavar="NAME",
        help=f"rename the header of --sign stripe (default {DEFAULT_SIGNATURE_HEADER}); "
        "other schemes' headers are fixed",
    )
    g.add_argument(
        "--header",
        dest="headers",
        metavar="'NAME: VALUE'",
        action="append",
        help="an extra header on every webhook, repeatable (an auth token, a tenant); "
        "$NAME or ${NAME} in the value is read from the environment",
    )
    g.add_argument(
        "--header-file",
        dest="header_files",
        metavar="PATH",
        action="append",
        help="extra headers from a file, one 'NAME: VALUE' a line (# comments): "
        "a token kept out of the command line, where ps shows it",
    )
    g.add_argument(
        "--duplicate-rate",
        dest="duplicate_rate",
        metavar="F",
        help="share of accepted webhooks delivered again, same id, re-signed (default 0)",
    )
    g.add_argument(
        "--reorder-rate",
        dest="reorder_rate",
        metavar="F",
        help="share of flow runs (ingest: orders, disputes) whose second event is "
        "delivered before the first, then both in order (default 0)",
    )
    g.add_argument(
        "--retries",
        metavar="N",
        help="retry a webhook up to N times on 5xx, 429, timeouts and connection errors, "
        "with exponential backoff and jitter, or the answer's Retry-After when longer "
        "(up to 60 s) (default 0); with a scenario's [delivery] policy, as that "
        "provider retries, or redelivers where it retries nothing (github; docs/DELIVERY.md)",
    )
    g.add_argument(
        "--retry-speed",
        dest="retry_speed",
        metavar="F",
        help="play the [delivery] policy's retry schedule F times faster, so a run of "
        "minutes plays a schedule of hours (default 1)",
    )


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    """The run's other outputs (engine/outputs/extras.py), not run settings."""
    p.add_argument(
        "--timeline",
        metavar="PATH",
        help="write one row per second to PATH: NDJSON, or CSV when PATH ends in .csv",
    )
    p.add_argument(
        "--report",
        metavar="PATH.html",
        help="write a self-contained HTML report with charts to PATH at the end",
    )
    p.add_argument(
        "--metrics-addr",
        dest="metrics_addr",
        metavar="HOST:PORT",
        help="serve live Prometheus metrics at http://HOST:PORT/metrics during the run",
    )
    p.add_argument(
        "--metrics-linger",
        dest="metrics_linger",
        metavar="DURATION",
        help="--no-ui: keep serving the final metrics this long after the run, so a "
        "scrape sees them; Ctrl+C ends it (default 0)",
    )
