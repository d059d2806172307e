"""``webhookload-tui scenarios``: list the built-ins, print one, check a file.

    webhookload-tui scenarios                # the built-ins, one line each
    webhookload-tui scenarios show NAME      # a built-in's file, to copy
    webhookload-tui scenarios check PATH     # validate; print a sample journey

``check`` sends nothing: it says in one line whether the reference target
(``--target builtin``) can receive the file (and why not), then prints the
requests of one journey (method, URL, headers, body) as a run would send
them, with the values of secret-looking headers hidden (a signature is
computed with a throwaway secret and shown as ``<hidden>``). A bad file is one
line on stderr and exit 2, as any bad input.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from typing import NoReturn

from engine.domain.sanitize import Cleaner, query_secrets
from engine.domain.signing import DEFAULT_SIGNATURE_HEADER, make_signer
from engine.errors import EXIT_OK, EXIT_USAGE, WebhookloadError
from engine.scenario.compiled import CompiledScenario
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import Scenario, builtin_names, builtin_text, load_scenario
from engine.scenario.receiver import verdict
from engine.scenario.sample import SampleRequest, sample_journey
from engine.scenario.select import hand_written

CHECK_TARGET = "http://localhost:3001"
"""A run's own default --target (engine/config.py's RunConfig; a test keeps the
two equal): the sample shows the URLs a run without --target would send to."""
PROG = "webhookload-tui scenarios"
SECRET_HEADER = re.compile(r"sign|auth|secret|token|api[-_]?key|cookie|password", re.I)
"""Header names whose values ``check`` never prints."""
_THROWAWAY = "whsec_" + "A" * 43 + "="  # a valid-looking key, used for nothing but the sample


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Scenario files: what webhookload sends (docs/SCENARIOS.md).",
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", help="the built-in scenarios (the default)")
    show = sub.add_parser("show", help="print a built-in scenario's file, to copy and edit")
    show.add_argument("name", help="a built-in's name: " + ", ".join(builtin_names()))
    check = sub.add_parser("check", help="validate a file; print a sample journey (sends nothing)")
    check.add_argument("path", help="a scenario file, or a built-in's name")
    check.add_argument(
        "--target",
        default=CHECK_TARGET,
        help=f"where webhooks go, as a run's --target (default {CHECK_TARGET})",
    )
    check.add_argument("--read-api", default=None, help="where API steps and reads go")
    check.add_argument("--seed", type=int, default=1, help="which sample journey (default 1)")
    return p


def main(argv: list[str]) -> int:
    """The subcommand; an error is one line on stderr and its exit code."""
    ns = _parser().parse_args(argv)
    try:
        if ns.command == "show":
            sys.stdout.write(builtin_text(ns.name))
        elif ns.command == "check":
            _check(ns.path, ns.target, ns.read_api, ns.seed)
        else:
            _list()
    except WebhookloadError as exc:
        print(f"webhookload-tui: {exc}", file=sys.stderr)
        return exc.exit_code
    return EXIT_OK


def _list() -> None:
    names = builtin_names()
    width = max(len(n) for n in names)
    for name in names:
        scenario = load_scenario(name)
        print(f"{name:<{width}}  {scenario.spec.scenario.description}")
    print(f"\nPrint one with: {PROG} show NAME; check your own with: {PROG} check PATH")


def _check(path: str, target: str, read_api: str | None, seed: int) -> None:
    scenario = load_scenario(path)
    compiled = compile_scenario(scenario)
    print(f"{scenario.origin}: ok: {summary(scenario, compiled)}")
    print(verdict(compiled, hand_written=hand_written(path)))
    print(f"A sample journey (--seed {seed}; nothing was sent):")
    # the target's query may hold a token: shown by name only, as in a run's outputs
    queries = [*query_secrets(target), *query_secrets(read_api or "")]
    hide = Cleaner([v for _, v in queries], query_names=[n for n, _ in queries])
    for req in sample_journey(compiled, random.Random(seed), target, read_api):
        print()
        print(hide.redact(render(req, scenario)))


def summary(scenario: Scenario, compiled: CompiledScenario) -> str:
    """``scenario 'ingest': flows order (4 states, root), ...; webhooks ...``."""
    flows = ", ".join(
        f"{f.name} ({len(f.states)} states{', root' if f.root is not None else ''})"
        for f in compiled.flows
    )
    parts = [f"scenario {scenario.name!r}: flows {flows}"]
    if compiled.webhooks:
        parts.append("webhooks " + ", ".join(w.name for w in compiled.webhooks))
    if compiled.api:
        parts.append("API steps " + ", ".join(compiled.api))
    policy = scenario.policy
    if policy is not None:  # issue 22: its [delivery] table
        timeout = "no timeout" if policy.timeout is None else f"timeout {policy.timeout:g}s"
        n = len(policy.resends)
        retries = f"{n} {policy.resend_word} after {policy.describe_schedule()}" if n else ""
        if not policy.schedule:
            retries = "no retries" + (f"; {retries}" if retries else "")
        parts.append(f"delivery policy {policy.name} ({timeout}, {retries})")
    return "; ".join(parts)


def render(req: SampleRequest, scenario: Scenario) -> str:
    """One request as text: a line for method and URL, its headers, its body."""
    where = f"{req.flow}.{req.state}" if req.state else f"{req.flow} read-back"
    lines = [f"{req.method} {req.url}   [{where}]"]
    headers = list(req.headers)
    meta = scenario.spec.scenario
    if meta.sign is not None and req.kind == "webhook" and req.body is not None:
        header = meta.signature_header or DEFAULT_SIGNATURE_HEADER
        signer = make_signer(meta.sign, _THROWAWAY, header)
        event_id = next((v for k, v in headers if k == meta.correlation_header), "")
        headers += signer.headers(req.body, event_id, 0)
    for name, value in headers:
        lines.append(f"{name}: {'<hidden>' if SECRET_HEADER.search(name) else value}")
    if req.body is not None:
        lines.append(req.body.decode("utf-8", "replace"))
    return "\n".join(lines)
