"""How each generator is run and read, for `make bench`. One function per tool,
each returning a Sample; CPU time and peak RSS come from GNU time."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
VENV_BIN = ROOT / ".venv" / "bin"


@dataclass
class Sample:
    tool: str
    requests: int
    seconds: float  # the run's measured duration
    cpu_s: float  # user + sys of the generator process
    p50_ms: float | None
    p99_ms: float | None
    rss_mb: float
    command: str
    errors: int = 0  # failed requests (webhookload) or socket errors + non-2xx (wrk)
    gen_cpu_pct: float | None = None
    """webhookload's generator process alone, % of a core while it loaded (its
    summary's ``generator.cpu_pct``); ``cpu_s`` also holds start-up and, for the
    TUI, the UI process (its child, the engine, is waited for and counted too)."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_s(self) -> float:
        return self.requests / self.cpu_s if self.cpu_s else 0.0

    @property
    def per_gen_cpu_s(self) -> float | None:
        """Requests per CPU-second of the generator process during the load
        (the work per request, whatever the other processes of the run cost)."""
        if not self.gen_cpu_pct or not self.seconds:
            return None
        return self.requests / (self.seconds * self.gen_cpu_pct / 100)


def timed(
    cmd: list[str], *, tag: str, env: dict[str, str] | None = None
) -> tuple[str, float, float]:
    """Run ``cmd`` under GNU time: (stdout, cpu seconds, peak RSS in MB).

    The CPU is the process's and its waited-for descendants' (wait4's rusage),
    so webhookload's ``--workers`` shard processes are in it (bench/scale.py
    checks that against /proc); peak RSS is the largest single process's."""
    tfile = WORK / f"time-{tag}.txt"
    res = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", "-o", str(tfile), *cmd],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        env=None if env is None else {**os.environ, **env},
    )
    if res.returncode not in (0,):
        raise RuntimeError(f"{cmd[0]} failed ({res.returncode}): {res.stderr[-800:]}")
    user, sys_, rss_kb = tfile.read_text().split()[-3:]
    return res.stdout + res.stderr, float(user) + float(sys_), int(rss_kb) / 1024


def go_ms(text: str) -> float:
    """A Go duration string (``1.234ms``, ``845.2µs``, ``1.2s``) in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text)
    assert m, text
    scale = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    return float(m.group(1)) * scale


def max_mode_command(url: str, secs: int, vus: int, out: Path) -> list[str]:
    """webhookload's command in max mode, the JSON summary written to ``out``."""
    return [
        str(VENV_BIN / "webhookload-tui"),
        "--target",
        url,
        "--vus",
        str(vus),
        "--think",
        "0",
        "--duration",
        f"{secs}s",
        "--json",
        str(out),
    ]


def from_summary(tool: str, out: Path, cpu: float, rss: float, cmd: list[str]) -> Sample:
    doc = json.loads(out.read_text())
    lat = doc["latency_ms"]
    return Sample(
        tool,
        doc["requests"]["total"],
        doc["duration_s"],
        cpu,
        lat["p50"],
        lat["p99"],
        rss,
        " ".join(cmd).replace(str(ROOT) + "/", ""),
        gen_cpu_pct=doc.get("generator", {}).get("cpu_pct"),
    )


def summary_path(client: str, label: str = "") -> Path:
    """Where :func:`webhookload` leaves a run's JSON summary (read it for more fields)."""
    return WORK / f"wl-{re.sub(r'[^A-Za-z0-9]+', '-', label or client).strip('-')}.json"


SECRET_ENV = {"WEBHOOKLOAD_SECRET": "bench-signing-secret"}
"""The signing secret, passed in the environment (never on a command line)."""


def webhookload(
    url: str,
    secs: int,
    vus: int,
    client: str = "fast",
    extra: tuple[str, ...] = (),
    *,
    label: str = "",
    env: dict[str, str] | None = None,
) -> Sample:
    """A ``--no-ui`` run; its JSON summary stays at ``summary_path(client, label)``."""
    out = summary_path(client, label)
    cmd = [*max_mode_command(url, secs, vus, out), "--no-ui", "--client", client, *extra]
    _, cpu, rss = timed(cmd, tag="wl", env=env)
    name = f"{client}, {label}" if label else client
    return from_summary(f"webhookload --no-ui ({name})", out, cpu, rss, cmd)


def webhookload_tui(url: str, secs: int, vus: int) -> Sample:
    """The TUI in a real terminal (tmux 120x36), max mode, summary to JSON."""
    out = WORK / "wl-tui.json"
    tfile = WORK / "time-tui.txt"
    for f in (out, tfile):
        f.unlink(missing_ok=True)
    app = [*max_mode_command(url, secs, vus, out), "--autostart", "--exit-on-finish"]
    inner = " ".join(["/usr/bin/time", "-f", "'%U %S %M'", "-o", str(tfile), *app])
    tmux = [shutil.which("tmux") or "tmux", "-L", "webhookload-bench"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "b", "-x", "120", "-y", "36", inner], check=True
    )
    try:
        deadline = time.monotonic() + secs + 60
        while not tfile.exists() or not tfile.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError("the TUI run did not finish")
            time.sleep(0.2)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    user, sys_, rss_kb = tfile.read_text().split()[-3:]
    cpu, rss = float(user) + float(sys_), int(rss_kb) / 1024
    return from_summary("webhookload TUI (fast, tmux 120x36)", out, cpu, rss, app)


def ceiling(url: str, secs: int, conns: int, *, sign: bool = False) -> Sample:
    """The Python ceiling (bench/ceiling.py): the least a Python generator pays
    per webhook; with ``sign``, stripe-signed with the project's signer."""
    out = WORK / f"ceiling{'-signed' if sign else ''}.json"
    cmd = [
        str(VENV_BIN / "python"),
        str(ROOT / "bench" / "ceiling.py"),
        url,
        "--conns",
        str(conns),
        "--secs",
        str(secs),
        "--json",
        str(out),
        *(("--sign", "stripe") if sign else ()),
    ]
    _, cpu, rss = timed(cmd, tag="ceiling", env=SECRET_ENV if sign else None)
    doc = json.loads(out.read_text())
    return Sample(
        f"Python ceiling (bench/ceiling.py{', --sign stripe' if sign else ''})",
        doc["requests"],
        doc["duration_s"],
        cpu,
        doc["p50_ms"],
        doc["p99_ms"],
        rss,
        " ".join(cmd).replace(str(ROOT) + "/", ""),
        doc["errors"] + doc["responses"] - doc["success"],
    )


def locust(url: str, secs: int, vus: int) -> Sample:
    prefix = WORK / "locust"
    cmd = [
        str(WORK / "locust-venv" / "bin" / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(vus),
        "-r",
        str(vus * 10),
        "-t",
        f"{secs}s",
        "-H",
        url,
        "--only-summary",
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    _, cpu, rss = timed(cmd, tag="locust")
    with open(f"{prefix}_stats.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return Sample(
        "Locust FastHttpUser",
        int(row["Request Count"]),
        float(secs),
        cpu,
        float(row["50%"]),
        float(row["99%"]),
        rss,
        " ".join(cmd).replace(str(ROOT) + "/", ""),
    )


def seed_go(url: str, secs: int, vus: int) -> Sample:
    cmd = [
        str(WORK / "seed-go"),
        "-target",
        url,
        "-vus",
        str(vus),
        "-duration",
        f"{secs}s",
        "-think",
        "0s",
    ]
    out, cpu, rss = timed(cmd, tag="go")
    m = re.search(r"Requests:\s+(\d+)", out)
    d = re.search(r"Duration:\s+(\S+)", out)
    lat = re.search(r"p50=(\S+)\s+p95=\S+\s+p99=(\S+)", out)
    assert m and d and lat, out
    return Sample(
        "plan's Go tester (seed-go, -think 0s)",
        int(m.group(1)),
        go_ms(d.group(1)) / 1e3,
        cpu,
        go_ms(lat.group(1)),
        go_ms(lat.group(2)),
        rss,
        " ".join(cmd).replace(str(ROOT) + "/", ""),
    )


def wrk(url: str, secs: int, conns: int, threads: int = 1) -> Sample:
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(conns),
        "-d",
        f"{secs}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "post.lua"),
        url + "/webhooks/payments/orders",
    ]
    out, cpu, rss = timed(cmd, tag="wrk")
    n = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    assert n, out
    secs_run = float(n.group(2)) / (1000 if n.group(3) == "ms" else 1)
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(map(int, sock.groups())) if sock else 0
    return Sample(
        f"wrk ({threads} thread{'s' if threads > 1 else ''}, Lua body)",
        int(n.group(1)),
        secs_run,
        cpu,
        go_ms(dist["50"].replace("us", "µs")),
        go_ms(dist["99"].replace("us", "µs")),
        rss,
        " ".join(cmd).replace(str(ROOT) + "/", ""),
        errors + (int(non2xx.group(1)) if non2xx else 0),
    )


def hey(url: str, secs: int, conns: int) -> Sample:
    body = WORK / "body.json"
    body.write_text('{"provider_event_id":"a","status":"created"}')
    cmd = [
        "hey",
        "-z",
        f"{secs}s",
        "-c",
        str(conns),
        "-m",
        "POST",
        "-T",
        "application/json",
        "-D",
        str(body),
        url + "/webhooks/payments/orders",
    ]
    out, cpu, rss = timed(cmd, tag="hey")
    total = sum(int(n) for n in re.findall(r"\[\d+\]\s+(\d+) responses", out))
    p50 = re.search(r"50%+ in ([\d.]+) secs", out)
    p99 = re.search(r"99%+ in ([\d.]+) secs", out)
    return Sample(
        "hey (static body)",
        total,
        float(secs),
        cpu,
        float(p50.group(1)) * 1e3 if p50 else None,
        float(p99.group(1)) * 1e3 if p99 else None,
        rss,
        " ".join(cmd).replace(str(ROOT) + "/", ""),
    )
