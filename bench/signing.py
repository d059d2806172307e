"""`make bench --only signing`: the cost of signing, per built-in scheme.

Issue 22's goal: a signed run reaches ≥ 0.9× an unsigned one's requests per
CPU-second, for every built-in scheme. Each run is a whole ``--no-ui`` run
against nginx (10 VUs, no think time, the default scenario, CPU = user + sys
of the process, start-up included, as every row of `make bench`). A round runs
every scheme once, with an unsigned run before the first and after every
:data:`EVERY` schemes: each signed run is divided by the mean of the unsigned
runs on either side of it, so the machine's drift (minutes long on a shared
machine) cancels; a scheme's figure is the median of its rounds' ratios.

Each scheme's secret, in ``WEBHOOKLOAD_SECRET``, is ``bench-signing-secret`` in
the form its key decoding wants (``whsec_<base64>`` for standard and svix).
"""

from __future__ import annotations

import base64
import statistics

from scale import mark
from tools import Sample, webhookload

from engine.domain.schemes import builtin
from engine.domain.signing import SCHEMES

EVERY = 3
"""Signed runs between two unsigned ones."""
GOAL = 0.9
_SECRET = b"bench-signing-secret"


def secret_env(scheme: str) -> dict[str, str]:
    """``WEBHOOKLOAD_SECRET`` for ``scheme``: the bench secret as its key wants it."""
    key = builtin(scheme).key
    if key == "whsec-base64":
        text = "whsec_" + base64.b64encode(_SECRET).decode()
    elif key == "hex":
        text = _SECRET.hex()
    else:
        text = _SECRET.decode()
    return {"WEBHOOKLOAD_SECRET": text}


Rounds = list[tuple[list[Sample], dict[str, tuple[Sample, float]]]]
"""Per round: its unsigned runs, and per scheme its run and its ratio to the
unsigned runs either side of it."""


def rounds(url: str, secs: int, vus: int, repeats: int) -> Rounds:
    """``repeats`` rounds of every built-in scheme, unsigned runs in between."""

    def unsigned() -> Sample:
        return webhookload(url, secs, vus, "fast", label="unsigned")

    def signed(scheme: str) -> Sample:
        return webhookload(
            url,
            secs,
            vus,
            "fast",
            ("--sign", scheme),
            label=f"--sign {scheme}",
            env=secret_env(scheme),
        )

    out: Rounds = []
    for r in range(repeats):
        bases = [unsigned()]
        pending: list[tuple[str, Sample]] = []
        ratios: dict[str, tuple[Sample, float]] = {}
        order = SCHEMES if r % 2 == 0 else tuple(reversed(SCHEMES))
        for i, scheme in enumerate(order):
            pending.append((scheme, signed(scheme)))
            if (i + 1) % EVERY == 0 or i + 1 == len(order):
                before, after = bases[-1], unsigned()
                bases.append(after)
                base = (before.per_cpu_s + after.per_cpu_s) / 2
                for name, s in pending:
                    ratios[name] = (s, s.per_cpu_s / base)
                    print(
                        f"[{r + 1}/{repeats}] --sign {name:12s} {s.per_cpu_s:9.0f} req/CPU-s "
                        f"{s.per_cpu_s / base:.3f}× unsigned ({base:.0f})",
                        flush=True,
                    )
                pending = []
        out.append((bases, ratios))
    return out


def lines(got: Rounds, secs: int) -> list[str]:
    """The section: a row per scheme, its median ratio and the goal's verdict."""
    unsigned = [s.per_cpu_s for bases, _ in got for s in bases]
    head = [
        "",
        "## The cost of signing",
        "",
        f"nginx `return 202`, 10 VUs, {secs} s, no think time, the default scenario; "
        f"{len(got)} rounds of every built-in scheme, an unsigned run before the first and "
        f"after every {EVERY} schemes. A ratio is a signed run's requests per CPU-second "
        "(user + sys, start-up included) over the mean of the unsigned runs either side of "
        "it; the median of the rounds. Goal (issue 22): ≥ 0.9× for every scheme. Unsigned "
        f"runs: median {statistics.median(unsigned):,.0f} req/CPU-s "
        f"({min(unsigned):,.0f}–{max(unsigned):,.0f}).",
        "",
        "| scheme | signed req/CPU-s (median) | signed ÷ unsigned (median) | rounds | goal | |",
        "|---|---:|---:|---|---|---|",
    ]
    rows = []
    for scheme in SCHEMES:
        runs = [ratios[scheme] for _, ratios in got if scheme in ratios]
        r = statistics.median(x for _, x in runs)
        rate = statistics.median(s.per_cpu_s for s, _ in runs)
        each = ", ".join(f"{x:.2f}" for _, x in runs)
        rows.append(
            f"| `--sign {scheme}` | {rate:,.0f} | {r:.2f}× | {each} | ≥ {GOAL:.1f}× "
            f"| {mark(r >= GOAL)} |"
        )
    return head + rows


def samples(got: Rounds) -> list[Sample]:
    """One run of each kind, for the report's commands."""
    first_bases, first = got[0]
    return [first_bases[0], *(first[s][0] for s in SCHEMES)]
