"""Text from a target is data, never control, and never a secret (issue 21).

A real ``--no-ui`` run (a subprocess) against a loopback server that puts
terminal escapes (OSC title and clipboard, CSI clear screen, a bare CR, C1
CSI, bidi overrides) in its bodies, reason phrases, header values and a
redirect's ``Location``, and echoes the request's headers: none of those
bytes reach stdout, stderr, the JSON or the HTML report raw, and no secret
does at all. One place does it: engine/domain/sanitize.py."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import CLIENTS, RunConfig
from engine.domain.sanitize import HIDDEN, Cleaner, query_secrets, shown_url
from tests.misbehaving import Action, Peer, Request, ScriptedServer
from tests.tmux import TmuxApp

CMD = [sys.executable, "-m", "tui.cli"]
NASTY = (
    "\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[?1049h\rHIDDEN-LINE\u202eevil\u009b31m\u200b"
)
RAW = [b"\x1b", b"\x07", b"\r", "\u202e".encode(), "\u009b".encode(), "\u200b".encode()]
SENT = [s.encode() for s in ("\x1b]0;pwned", "\x1b[2J", "\rHIDDEN", "\u202eevil", "\u009b31m")]
"""What the target sent, byte for byte: the HTML report (plotly's own script
holds control bytes of its own) is checked for these."""
TOKEN = "tok-3f9a1c77e2b54d08"
SECRET = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw"
QUERY_TOKEN = "qtok-5be0d2a9"
"""In the target's query (``?token=...``): a secret too, shown nowhere, its name kept."""


TURNS = itertools.count()


def nasty(peer: Peer, req: Request) -> Action:
    """In turn: a 500 whose reason, header and body carry escapes; a redirect to
    a Location that does; a 400 that echoes the request's head (its secrets)."""
    turn = next(TURNS) % 3  # across connections: a client may close one after a 302
    inline = "\u202eevil\u009b31m\u200b"  # C0 in a head is malformed to every parser
    if turn == 0:
        body = NASTY.encode()
        head = f"HTTP/1.1 500 {inline}\r\nX-Evil: {inline}\r\nContent-Length: {len(body)}\r\n\r\n"
        peer.send(head.encode("utf-8") + body)
    elif turn == 1:
        head = f"HTTP/1.1 302 Found\r\nLocation: http://x/{inline}\r\nContent-Length: 0\r\n\r\n"
        peer.send(head.encode("utf-8"))
    else:
        echo = f"Authorization: Bearer {TOKEN} key={SECRET}, you sent: {req.head}".encode()
        peer.send(b"HTTP/1.1 400 Bad\r\nContent-Length: %d\r\n\r\n%s" % (len(echo), echo))
    return "keep"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer(nasty)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("client", CLIENTS)
def test_no_escape_bidi_or_secret_from_a_target_reaches_any_output(
    server: ScriptedServer, tmp_path: Path, client: str
) -> None:
    doc, report = tmp_path / "run.json", tmp_path / "report.html"
    env = {**os.environ, "WEBHOOKLOAD_SECRET": SECRET, "NO_COLOR": "1"}
    res = subprocess.run(
        [
            *CMD,
            "--no-ui",
            *("--target", f"{server.url}/hooks?token={QUERY_TOKEN}&v=2", "--client", client),
            *("--vus", "2", "--duration", "1s"),
            *("--sign", "stripe", "--header", f"Authorization: Bearer {TOKEN}"),
            *("--json", str(doc), "--report", str(report)),
        ],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert doc.exists(), res.stderr.decode()
    outputs = {
        "stdout": res.stdout,
        "stderr": res.stderr,
        "json": doc.read_bytes(),
        "report": report.read_bytes(),
    }
    assert b"Sample failures" in res.stdout, res.stderr.decode()
    for name, data in outputs.items():
        for raw in SENT if name == "report" else RAW:
            assert raw not in data, (name, raw)
        assert TOKEN.encode() not in data and SECRET.encode() not in data, name
        assert QUERY_TOKEN.encode() not in data, name  # echoed in the request line too
    shown = "/hooks?token=(hidden)&v=(hidden)"
    assert f"Target: {server.url}{shown}".encode() in res.stdout
    t = json.loads(doc.read_bytes())
    assert t["target_url"] == t["config"]["target"] == server.url + shown
    failures = t["sample_failures"]
    details = " ".join(f["detail"] for f in failures)
    assert "\\x1b]0;pwned\\x07" in details  # shown, as text
    assert "redirect to " in details  # pyreqwest: "(not ASCII text)", the rest: cleaned
    assert HIDDEN in details
    assert {"http_5xx", "redirect", "http_4xx"} <= {f["kind"] for f in failures}


def test_the_cleaner_escapes_controls_bounds_length_and_hides_secrets() -> None:
    c = Cleaner([TOKEN, SECRET, "short"], ["Authorization", "Stripe-Signature"])
    shown = c.clean(NASTY, 500)
    assert shown.isprintable() and "\\x1b]0;pwned\\x07" in shown and "\\u202e" in shown
    assert "\\x0dHIDDEN-LINE" in shown and "\\x9b31m" in shown and "\\u200b" in shown
    assert len(c.clean("\x1b" * 1000, 100)) == 100
    echoed = c.clean(
        f'{{"authorization": "Bearer x1", "stripe-signature": "t=1,v1={"ab" * 32}"}} {SECRET}', 500
    )
    assert "x1" not in echoed and "ab" * 32 not in echoed and SECRET not in echoed
    assert echoed.count(HIDDEN) == 3
    assert c.clean(f"cut at: {TOKEN[:7]}", 500) == f"cut at: {HIDDEN}"  # a preview cut mid-token
    assert c.clean("short and sweet", 500) == "short and sweet"  # too short to hide unnamed
    assert c.clean(b"\xff\xfe ok", 50) == "\ufffd\ufffd ok"


def test_a_url_is_shown_with_its_query_values_and_password_hidden() -> None:
    assert (
        shown_url("http://h:1/hooks?token=abc&x=1") == "http://h:1/hooks?token=(hidden)&x=(hidden)"
    )
    assert (
        shown_url("https://u:pw@h/p?bare&empty=#frag") == "https://u:(hidden)@h/p?(hidden)&empty="
    )
    assert shown_url("http://h/p") == "http://h/p" and shown_url("builtin") == "builtin"
    cfg = RunConfig(target="http://h/t?token=abc", read_api="http://u:pw-9f2@h/r?key=k-77e1")
    assert cfg.as_dict()["target"] == "http://h/t?token=(hidden)"
    assert cfg.as_dict()["read_api"] == "http://u:(hidden)@h/r?key=(hidden)"
    assert cfg.cleaner().clean("sent token=abc key=k-77e1 pw pw-9f2", 99) == (
        "sent token=(hidden) key=(hidden) pw (hidden)"
    )
    url = "http://h/hooks?token=abc&sig=a%2Fb-long"
    queries = query_secrets(url)
    c = Cleaner([v for _, v in queries], query_names=[n for n, _ in queries])
    echo = "got /hooks?token=abc&sig=a%2Fb-long (a/b-long), max=3 token=abc"
    assert c.clean(echo, 500) == (
        "got /hooks?token=(hidden)&sig=(hidden) ((hidden)), max=3 token=(hidden)"
    )


@pytest.mark.terminal
def test_the_tui_in_a_real_terminal_keeps_its_title_and_shows_the_escapes_as_text(
    server: ScriptedServer, tmp_path: Path
) -> None:
    """tmux acts on what reaches it: an OSC 0 would retitle the pane, CSI 2J
    clear it. The sample failures are on the summary, escaped."""
    target = f"'{server.url}/hooks?token={QUERY_TOKEN}'"
    app = TmuxApp(tmp_path, f"--target {target} --autostart --duration 2s", size=(200, 50))
    try:
        title = app.tmux("display", "-p", "-t", "main", "#{pane_title}").strip()
        screen = app.tmux.wait_screen(lambda s: "Summary" in s and "Requests:" in s)
        raw = app.tmux("capture-pane", "-p", "-e", "-t", "main")  # escapes kept
        assert "pwned" not in app.tmux("display", "-p", "-t", "main", "#{pane_title}")
        assert app.tmux("display", "-p", "-t", "main", "#{pane_title}").strip() == title
        assert "\\x1b]0;pwned\\x07" in screen  # the body's escapes, shown as text
        assert QUERY_TOKEN not in raw and "?token=(hidden)" in screen, screen  # its name only
        # the app's own SGR colours are CSI; no OSC, BEL, bidi or C1 from the target
        assert "\x1b]" not in raw and "\x07" not in raw and "\u202e" not in raw
        assert "\u009b" not in raw
        app.keys("q")
        assert app.exit_code(limit_s=20) == 5  # no request succeeded
        assert app.modes().split()[0] == "0"  # the alternate screen is left
    finally:
        app.close()
