"""Requests per CPU-second of two source trees of webhookload, interleaved.

On a shared 2-core machine whose speed drifts within minutes, one run of
each tells nothing about a 5 % change; runs in A/B/B/A order, medians of
many, do. Each run is the whole ``--no-ui`` process under GNU time (CPU =
user + sys, start-up included), against a target you start (nginx from
bench/nginx.conf.in), with the tree put first on ``PYTHONPATH``:

    git archive BASE | tar -x -C /tmp/before
    .venv/bin/python bench/ab.py /tmp/before . \\
        --target http://127.0.0.1:PORT --runs 8 --secs 5 [--sign SCHEME] [--scenario stripe] \\
        [--client pyreqwest]

(every run with ``--scenario``, default ``ingest``: the compiled flow walker;
the signing secret from ``WEBHOOKLOAD_SECRET``, default a fixed test one).
With ``--hotpath``, each run is bench/hotpath.py instead (webhookload's own
Python per request, no network; ``--target`` unused): µs of CPU per request,
lower is better.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

VENV_PY = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
HOTPATH = Path(__file__).resolve().parent / "hotpath.py"


def hotpath(tree: Path, sign: str, scenario: str) -> float:
    """bench/hotpath.py's µs of CPU per request, with ``tree`` first on the path
    (``sign``: a scheme's name, "" unsigned)."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    cmd = [str(VENV_PY), str(HOTPATH), "--scenario", scenario, *(["--sign", sign] if sign else [])]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return float(out.split(": ", 1)[1].split()[0])


def one(
    tree: Path, target: str, secs: int, extra: list[str], client: str = "fast"
) -> tuple[int, float]:
    """(requests, CPU seconds) of one run of ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        out, tfile = Path(tmp) / "out.json", Path(tmp) / "time.txt"
        cmd = [
            *("/usr/bin/time", "-f", "%U %S", "-o", str(tfile)),
            *(str(VENV_PY), "-c", "import sys; from tui.cli import main; sys.exit(main())"),
            *("--target", target, "--vus", "10", "--think", "0", "--duration", f"{secs}s"),
            *("--no-ui", "--client", client, "--json", str(out), *extra),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": str(tree.resolve()),
            "WEBHOOKLOAD_SECRET": os.environ.get("WEBHOOKLOAD_SECRET", "bench-signing-secret"),
        }
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        user, sys_ = tfile.read_text().split()[-2:]
        return json.loads(out.read_text())["requests"]["total"], float(user) + float(sys_)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", type=Path, help="the tree before")
    ap.add_argument("b", type=Path, help="the tree after")
    ap.add_argument("--target", help="the target URL (whole runs)")
    ap.add_argument("--hotpath", action="store_true", help="bench/hotpath.py runs instead")
    ap.add_argument("--runs", type=int, default=8, help="runs of each tree")
    ap.add_argument("--secs", type=int, default=5)
    ap.add_argument("--sign", default="", help="a built-in scheme (stripe, standard, github, ...)")
    ap.add_argument("--scenario", default="ingest", help="--scenario of every run")
    ap.add_argument("--client", default="fast", help="--client of every run (whole runs)")
    a = ap.parse_args()
    extra = ["--scenario", a.scenario, *(["--sign", a.sign] if a.sign else [])]
    got: dict[str, list[float]] = {"a": [], "b": []}
    if not a.hotpath and not a.target:
        ap.error("--target is needed for whole runs")
    unit = "us/request" if a.hotpath else "req/CPU-s"
    for i in range(a.runs):
        order = ("a", "b") if i % 2 == 0 else ("b", "a")
        for k in order:
            tree = a.a if k == "a" else a.b
            if a.hotpath:
                value = hotpath(tree, a.sign, a.scenario)
            else:
                n, cpu = one(tree, a.target, a.secs, extra, a.client)
                value = n / cpu
            got[k].append(value)
            print(f"[{i + 1}/{a.runs}] {k} {value:9.3f} {unit}", flush=True)
    ma, mb = statistics.median(got["a"]), statistics.median(got["b"])
    print(f"median {unit}: a {ma:,.3f}  b {mb:,.3f}  b/a {mb / ma:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
