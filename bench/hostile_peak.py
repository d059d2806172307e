"""Peak memory of a client against a hostile target, under environment variants.

tests/test_hostile_runs.py asserts one 10 s run per client under 100 MB; this
measures the same run (the same rotating server, flags and launcher, whose
``ru_maxrss`` is the run's own) several times per variant, alternating, so a
setting's effect on the peak can be told from run-to-run spread. A variant is
``LABEL|NAME=VALUE NAME=VALUE`` (the environment added to the run's):

    flock /work/wt/bench.lock .venv/bin/python bench/hostile_peak.py --rounds 3 \\
        --client pyreqwest 'now|' \\
        'old|MIMALLOC_PURGE_DELAY=10 MIMALLOC_ARENA_EAGER_COMMIT=2'

(docs/PERFORMANCE.md, section 11). Each run takes ~12 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.misbehaving import ATTACKS, ScriptedServer, rotating
from tests.test_hostile_runs import _LAUNCH, DURATION_S, noting_first


def one_run(client: str, extra: dict[str, str]) -> tuple[float, float, int]:
    """(peak MB, seconds past the duration, requests) of one run."""
    first: list[float] = []
    srv = ScriptedServer(noting_first(rotating(*ATTACKS), first))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            peak, doc = Path(tmp) / "peak", Path(tmp) / "run.json"
            argv = [sys.executable, "-m", "tui.cli", "--no-ui", "--target", srv.url]
            argv += ["--client", client, "--vus", "4", "--duration", f"{DURATION_S}s"]
            argv += ["--timeout", "20s", "--json", str(doc)]
            subprocess.run(
                [sys.executable, "-c", _LAUNCH, str(peak), *argv],
                env={**os.environ, **extra},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=90,
                check=False,
            )
            ended = time.monotonic()
            total = int(json.loads(doc.read_bytes())["requests"]["total"])
            return int(peak.read_text()) / 1024, ended - first[0] - DURATION_S, total
    finally:
        srv.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("variants", nargs="+", help="LABEL|NAME=VALUE ... (the env added)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--client", default="pyreqwest")
    a = ap.parse_args()
    variants = []
    for spec in a.variants:
        label, _, envs = spec.partition("|")
        variants.append((label, dict(e.split("=", 1) for e in envs.split())))
    peaks: dict[str, list[float]] = {label: [] for label, _ in variants}
    for r in range(a.rounds):
        for label, extra in variants:
            mb, late, total = one_run(a.client, extra)
            peaks[label].append(mb)
            print(f"[{r + 1}] {label}: peak {mb:.1f} MB, {late:+.2f}s, {total} requests")
    for label, got in peaks.items():
        shown = ", ".join(f"{p:.1f}" for p in sorted(got))
        print(f"{label}: median {statistics.median(got):.1f} MB ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
