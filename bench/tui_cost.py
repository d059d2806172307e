"""What the TUI's own process costs during a run, at two refresh rates, beside --no-ui.

    flock /work/wt/bench.lock .venv/bin/python bench/tui_cost.py [ROUNDS] [REFRESH_S,...]

Rounds of (the TUI at each refresh interval, ``--no-ui``) in rotating order:
10 VUs, max mode, 10 s against bench's nginx, the TUI in tmux at 120x36. For
the TUI it prints req/s and the UI process's CPU seconds from Start to the
run's result (``time.process_time``: start-up left out), and the process's
whole CPU; for ``--no-ui`` req/s and CPU (GNU time); for both, the share of a
core the generator process (the TUI's engine) had while loading. The UI's CPU is the
robust figure on a shared machine: req/s ratios of single pairs range widely
(docs/PERFORMANCE.md, section 3). Run as ``tui_cost.py --wrap ARGS`` it is the
TUI itself, with ``REFRESH_S`` from the environment, writing its CPU to
``$COST_OUT``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def wrapped_tui(argv: list[str]) -> int:
    """webhookload-tui with REFRESH_S from the environment; its CPU to $COST_OUT."""
    import tui.app as appmod
    from tui.cli import main

    appmod.REFRESH_S = float(os.environ.get("REFRESH_S", appmod.REFRESH_S))
    marks: dict[str, float] = {}
    start, finished = appmod.WebhookLoadApp._start, appmod.WebhookLoadApp.on_run_finished

    def _start(self: Any, config: Any) -> None:
        marks["start"] = time.process_time()
        start(self, config)

    def on_run_finished(self: Any, message: Any) -> None:
        marks["end"] = time.process_time()
        finished(self, message)

    appmod.WebhookLoadApp._start = _start  # type: ignore[method-assign]
    appmod.WebhookLoadApp.on_run_finished = on_run_finished  # type: ignore[method-assign]
    try:
        return main(argv)
    finally:
        run_cpu = marks.get("end", 0.0) - marks.get("start", 0.0)
        Path(os.environ["COST_OUT"]).write_text(f"{run_cpu:.3f} {time.process_time():.3f}\n")


def tui_run(url: str, refresh: str, work: Path) -> tuple[float, float, float, float]:
    """(req/s, the UI's CPU during the run, the UI process's whole CPU, the
    engine's share of a core while loading, %)."""
    out, cost, done = work / "tc.json", work / "tc.cost", work / "tc.done"
    for f in (out, cost, done):
        f.unlink(missing_ok=True)
    inner = (
        f"cd {ROOT} && REFRESH_S={refresh} COST_OUT={cost} .venv/bin/python {HERE / 'tui_cost.py'}"
        f" --wrap --target {url} --vus 10 --think 0 --duration 10s --json {out}"
        f" --autostart --exit-on-finish; touch {done}"
    )
    tmux = [shutil.which("tmux") or "tmux", "-L", "webhookload-tui-cost"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "c", "-x", "120", "-y", "36", inner], check=True
    )
    try:
        deadline = time.monotonic() + 90
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    run_cpu, whole = map(float, cost.read_text().split())
    doc = json.loads(out.read_text())
    return float(doc["requests"]["per_second"]), run_cpu, whole, doc["generator"]["cpu_pct"]


def main() -> None:
    sys.path.insert(0, str(HERE))
    import run as benchrun
    from tools import WORK, webhookload

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    rates = (sys.argv[2] if len(sys.argv) > 2 else "0.25,0.5").split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    kinds = [*rates, "--no-ui"]
    got: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in kinds}
    with benchrun.nginx() as url:
        for i in range(rounds):
            line = []
            for k in kinds[i % len(kinds) :] + kinds[: i % len(kinds)]:
                if k == "--no-ui":
                    s = webhookload(url, 10, 10, "fast")
                    got[k].append((s.rate, 0.0, s.cpu_s, s.gen_cpu_pct or 0.0))
                    line.append(
                        f"--no-ui {s.rate:.0f}/s CPU {s.cpu_s:.2f}s at {s.gen_cpu_pct or 0:.1f} %"
                    )
                else:
                    rate, run_cpu, whole, share = tui_run(url, k, WORK)
                    got[k].append((rate, run_cpu, whole, share))
                    line.append(
                        f"TUI {k}s {rate:.0f}/s UI CPU in run {run_cpu:.2f}s, "
                        f"engine at {share:.1f} %"
                    )
            print(f"round {i + 1}: " + " | ".join(line), flush=True)
    for k, rows in got.items():
        rate = statistics.median(r[0] for r in rows)
        share = statistics.median(r[3] for r in rows)
        if k == "--no-ui":
            cpu = statistics.median(r[2] for r in rows)
            print(f"--no-ui: median {rate:.0f} req/s, CPU {cpu:.2f}s, generator at {share:.1f} %")
        else:
            ui = statistics.median(r[1] for r in rows)
            print(
                f"TUI, refresh every {k}s: median {rate:.0f} req/s, UI CPU in the run {ui:.3f}s, "
                f"engine at {share:.1f} % of a core"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--wrap"]:
        sys.argv[0] = "webhookload-tui"
        sys.exit(wrapped_tui(sys.argv[2:]))
    main()
