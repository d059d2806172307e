"""The README's "Test your own service" keeps its promise: the scenario file it
shows (a shop, not the payment manager) is under 40 lines, `scenarios check`
takes it, and its signed run with redeliveries and early events, as the README
writes it, is what a receiver of its own (one that checks GitHub's signature
with the official library and answers 409 to an id it has seen) received,
with no request rejected."""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson
from githubkit.webhooks import verify

from tests.helpers import serving

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECRET = "It's a Secret to Everybody"


def _shop_toml() -> str:
    section = README.split("## Test your own service", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


class _Shop(http.server.BaseHTTPRequestHandler):
    """A receiver of its own: 401 unless GitHub's library accepts the
    signature, 409 for an event id it has seen, else 202."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        signed = verify(SECRET, body, self.headers.get("X-Hub-Signature-256", ""))
        event_id = orjson.loads(body)["id"]
        with self.server.lock:
            if not signed or self.path != "/hooks/shop":
                status = 401
            elif event_id in self.server.seen:
                status = 409
            else:
                self.server.seen.add(event_id)
                status = 202
            self.server.answers[status] = self.server.answers.get(status, 0) + 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Shop)
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.answers: dict[int, int] = {}


def shop_receiver() -> AbstractContextManager[_Server]:
    return serving(_Server())


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_the_readmes_file_is_short_and_checks(tmp_path: Path) -> None:
    text = _shop_toml()
    assert len(text.splitlines()) < 40
    path = tmp_path / "shop.toml"
    path.write_text(text)
    done = _cli("scenarios", "check", str(path))
    assert done.returncode == 0, done.stderr
    assert "POST http://" in done.stdout and "/hooks/shop" in done.stdout


def test_the_readmes_signed_run_is_what_the_receiver_got(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(_shop_toml())
    command = re.search(r"--sign (\w+) --duplicate-rate ([\d.]+) --reorder-rate ([\d.]+)", README)
    assert command is not None and command.group(1) == "github"
    out = tmp_path / "run.json"
    with shop_receiver() as server:
        done = _cli(
            "--no-ui",
            "--scenario",
            str(path),
            "--target",
            f"http://127.0.0.1:{server.server_port}",
            "--sign",
            command.group(1),
            "--duplicate-rate",
            "0.2",  # the README's rates, raised so a 2 s run surely has both
            "--reorder-rate",
            "0.2",
            "--vus",
            "4",
            "--duration",
            "2s",
            "--json",
            str(out),
            env={**os.environ, "WEBHOOKLOAD_SECRET": SECRET},
        )
        answers = dict(server.answers)
    assert done.returncode == 0, done.stderr + done.stdout
    doc = orjson.loads(out.read_bytes())
    assert 401 not in answers, answers
    assert doc["requests"]["errors"] == 0
    delivery = doc["delivery"]
    assert delivery["duplicates_sent"] > 0 and delivery["early_sent"] > 0
    # every answer the receiver gave is one the run counted, and no more
    assert doc["status_codes"] == {str(k): v for k, v in answers.items()}
    assert answers.get(409, 0) == delivery["duplicates_rejected"]
