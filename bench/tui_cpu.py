"""TUI/--no-ui pairs with every process's CPU, read from /proc while they run.

    flock /work/wt/bench.lock .venv/bin/python bench/tui_cpu.py [PAIRS] [SECS]

The same runs as ``make bench --only tui`` (bench/tools.py: 10 VUs, max mode,
the TUI in tmux at 120x36), in alternating order against bench's nginx. For
each run it prints req/s and the CPU seconds, over the run's whole life, of
the generator (``noui``, or the TUI's ``engine`` process), the UI process
(``tui``), its tmux server, nginx's worker and everything else on the machine
(``other``: what other work took while the run was going), with the context
switches of ours. ``other`` says how loaded the machine was; the split says
whether a pair's ratio could come from what the UI costs (docs/PERFORMANCE.md,
section 3).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import nginx
from tools import webhookload, webhookload_tui

HZ = os.sysconf("SC_CLK_TCK")
Proc = tuple[str, float, int, int]  # cmdline, CPU seconds, context switches, parent pid


def scan() -> dict[int, Proc]:
    """Every process's cmdline, CPU, context switches and parent, now."""
    out: dict[int, Proc] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            cmd = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = Path(f"/proc/{name}/status").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        rest = stat[stat.rindex(")") + 2 :].split()
        switches = sum(int(x.split()[1]) for x in status if "ctxt_switches" in x)
        out[int(name)] = (cmd, (int(rest[11]) + int(rest[12])) / HZ, switches, int(rest[1]))
    return out


def kind(cmd: str) -> str:
    if "nginx: worker" in cmd:
        return "nginx"
    if "worker_main" in cmd:
        return "engine"  # the parent is checked too (another TUI's engine is "other")
    if "bench/.work" not in cmd or cmd.startswith("/usr/bin/time"):
        return "other"
    return "noui" if "--no-ui" in cmd else "tui"


class Sampler:
    """Scans /proc every 0.2 s until ``done``; CPU is each process's last
    reading less its first (a process ending between scans loses < 0.2 s)."""

    def __init__(self) -> None:
        self.first: dict[int, Proc] = {}
        self.last: dict[int, Proc] = {}
        self.tmux: set[int] = set()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        ask = ["tmux", "-L", "webhookload-bench", "display-message", "-p", "#{pid}"]
        while not self._stop:
            pid = subprocess.run(ask, capture_output=True, text=True).stdout.strip()
            if pid.isdigit():  # the server's cmdline may be blank
                self.tmux.add(int(pid))
            for p, v in scan().items():
                self.first.setdefault(p, v)
                self.last[p] = v
            time.sleep(0.2)

    def done(self) -> dict[str, float]:
        self._stop = True
        self._thread.join()
        tot: dict[str, float] = {}
        for pid, (cmd, cpu, switches, ppid) in self.last.items():
            k = "tmux" if pid in self.tmux else kind(cmd)
            if k == "engine" and kind(self.last.get(ppid, ("",))[0]) != "tui":
                k = "other"
            tot[k] = tot.get(k, 0.0) + cpu - self.first[pid][1]
            if k != "other" and k != "nginx":
                tot[f"{k} cs"] = tot.get(f"{k} cs", 0.0) + switches - self.first[pid][2]
        return tot


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    ratios = []
    with nginx() as url:
        for i in range(pairs):
            got: dict[str, tuple[float, dict[str, float]]] = {}
            for k in ("tui", "noui") if i % 2 == 0 else ("noui", "tui"):
                s = Sampler()
                run = webhookload_tui(url, secs, 10) if k == "tui" else webhookload(url, secs, 10)
                got[k] = (run.rate, s.done())
                cpu = " ".join(
                    f"{n}={v:.0f}" if n.endswith("cs") else f"{n}={v:.2f}s"
                    for n, v in sorted(got[k][1].items())
                )
                print(f"pair {i + 1} {k:4s} {run.rate:7,.0f} req/s  {cpu}", flush=True)
            ratios.append(got["tui"][0] / got["noui"][0])
            print(f"pair {i + 1} TUI / --no-ui {ratios[-1]:.1%}", flush=True)
    each = ", ".join(f"{r:.0%}" for r in sorted(ratios))
    print(f"median {statistics.median(ratios):.1%} of {pairs} pairs ({each})")


if __name__ == "__main__":
    main()
