"""Process accounting for `make bench`, from /proc: the CPU of a process tree
(to check that GNU time's figure includes webhookload's shard processes) and
of the target (is nginx the bottleneck?)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tools import WORK


def stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (index 1 = ppid, 11/12 = utime/stime)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def target_cpu_s(pidfile: Path) -> float:
    """CPU seconds (user + sys) so far of the nginx whose master wrote ``pidfile``,
    workers included: is the target itself the bottleneck?"""
    master = int(pidfile.read_text())
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                f = stat(int(name))
            except OSError:
                continue
            if int(name) == master or int(f[1]) == master:
                total += int(f[11]) + int(f[12])
    return total / os.sysconf("SC_CLK_TCK")


def _tree(
    root: int,
    seen: dict[tuple[int, int], float],
    parent_of: dict[int, int],
    top: set[tuple[int, int]],
) -> None:
    """Add the CPU ticks (user + sys) of ``root``'s descendants to ``seen``,
    keyed by (pid, start time) so a reused pid is another process; ``top`` gets
    the direct children (webhookload's parent process, under GNU time)."""
    stats: dict[int, list[str]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stats[int(name)] = stat(int(name))
            except OSError:
                continue
    for pid, f in stats.items():
        parent_of.setdefault(pid, int(f[1]))
    for pid, f in stats.items():
        p = pid
        while p in parent_of and p != root and p > 1:
            p = parent_of[p]
        if p == root and pid != root:
            key = (pid, int(f[19]))
            if parent_of[pid] == root:
                top.add(key)
            seen[key] = max(seen.get(key, 0.0), float(f[11]) + float(f[12]))


def timed_tree(cmd: list[str], tag: str) -> tuple[float, float, float, int]:
    """Run ``cmd`` under GNU time and watch its process tree in /proc every 0.1 s:
    (GNU time's user + sys, the /proc sum over every descendant, the part of it
    that is webhookload's parent process, processes seen).
    The /proc sum is a lower bound (the last tenth of a second of each process
    is missed), an independent check that GNU time counts the shards."""
    tfile = WORK / f"time-{tag}.txt"
    seen: dict[tuple[int, int], float] = {}
    parent_of: dict[int, int] = {}
    top: set[tuple[int, int]] = set()
    with open(WORK / f"out-{tag}.txt", "w") as log:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", str(tfile), *cmd],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        while proc.poll() is None:
            _tree(proc.pid, seen, parent_of, top)
            time.sleep(0.1)
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}), see {log.name}")
    user, sys_, _ = tfile.read_text().split()[-3:]
    ticks = os.sysconf("SC_CLK_TCK")
    parent = sum(seen[k] for k in top) / ticks
    return float(user) + float(sys_), sum(seen.values()) / ticks, parent, len(seen)
