"""A scenario's API steps: ``--scenario payments`` creates each payment through
the API and sends the acquirer webhooks carrying the ``provider_tx_id`` the
API answered (``capture``), against a loopback server playing both."""

from __future__ import annotations

import http.server
import itertools
import threading
from collections import Counter
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson

from tests.helpers import serving
from tests.test_scenario_run import _flows_add_up, _run


class _Payments(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        doc = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        srv = self.server
        if self.path == "/api/v1/payments":
            assert isinstance(doc["amount"], int) and doc["amount"] >= 1, doc
            n = next(srv.ids)
            answer = {"id": f"pay_{n}", "provider_tx_id": f"tx_{n}", "merchant_id": "m_1"}
            answer["status"] = "capture_pending" if not doc["capture_delay"] else "authorized"
            with srv.lock:
                srv.issued.add(f"tx_{n}")
                srv.posts[self.path] += 1
                srv.payments[f"tx_{n}"] = {**answer, "amount": doc["amount"], "refunds": set()}
                srv.by_id[answer["id"]] = f"tx_{n}"
            self._answer(200, orjson.dumps({**answer, "padding": "x" * 400}))
            return
        with srv.lock:
            srv.posts[self.path] += 1
            srv.tx[doc["transaction_id"]] += 1
            srv.events[doc["event"]] += 1
            if doc["event"] not in srv.ignore:
                _apply(srv.payments.get(doc["transaction_id"]), doc)
        self._answer(202, b"")

    def do_GET(self) -> None:  # the preflight, and a payment read back
        srv = self.server
        with srv.lock:
            tx = srv.by_id.get(self.path.removeprefix("/api/v1/payments/"))
            payment = srv.payments.get(tx or "")
            body = b"" if payment is None else orjson.dumps({"status": payment["status"]})
        if payment is None and self.path.startswith("/api/v1/payments/"):
            self._answer(404, b"")
            return
        self._answer(200, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Payments)
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.issued: set[str] = set()
        self.posts: Counter[str] = Counter()
        self.tx: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.payments: dict[str, dict[str, Any]] = {}
        self.by_id: dict[str, str] = {}
        self.ignore: tuple[str, ...] = ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up on a huge answer (the oversized test) is expected


def _apply(payment: dict[str, Any] | None, doc: dict[str, Any]) -> None:
    """The service's transitions, roughly: a refund adds up (once per refund_id)."""
    if payment is None:
        return
    event = doc["event"]
    if event == "transaction.refunded":
        if doc["refund_id"] not in payment["refunds"]:
            payment["refunds"].add(doc["refund_id"])
            payment["refunded"] = payment.get("refunded", 0) + doc["amount"]
        full = payment["refunded"] >= payment["amount"]
        payment["status"] = "refunded" if full else "partially_refunded"
    elif event != "transaction.refund_failed":
        payment["status"] = event.removeprefix("transaction.")


def payments_server() -> AbstractContextManager[_Server]:
    return serving(_Server())


def test_payments_webhooks_carry_the_ids_the_api_answered(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with payments_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = _run(
            out,
            *("--target", url, "--scenario", "payments", "--vus", "3", "--workers", "2"),
            *("--duplicate-rate", "0.1", "--reorder-rate", "0.2"),
        )
    assert res.returncode == 0, res.stderr + res.stdout
    doc = orjson.loads(out.read_bytes())
    eps, req = doc["endpoints"], doc["requests"]
    assert req["errors"] == 0, doc["sample_failures"]
    cut = doc["cancelled_at_deadline"]
    api = eps["create_payment"]["requests"] + eps["create_held_payment"]["requests"]
    assert api > 20, eps
    assert 0 <= server.posts["/api/v1/payments"] - api <= cut
    hooks = eps["silvergate"]["requests"]
    assert 0 <= server.posts["/webhooks/silvergate"] - hooks <= cut
    # every webhook carried a provider_tx_id the API had answered (captured)
    assert server.tx and set(server.tx) <= server.issued, set(server.tx) - server.issued
    assert server.events["transaction.captured"] > 0 and server.events["transaction.refunded"] > 0
    _flows_add_up(doc)
    flows = doc["flows"]
    # one API call per payment begun; every payment's webhooks went out after it
    assert api <= flows["payment"]["started"] <= api + cut + flows["payment"]["unfinished"]
    assert flows["refund"]["started"] > 0, flows
    assert doc["delivery"]["duplicates_sent"] > 0, doc["delivery"]


def test_an_answer_without_the_captured_value_is_an_error(tmp_path: Path) -> None:
    """A 200 whose JSON lacks provider_tx_id: the payment's webhooks cannot be
    built, so the API step counts as an error and the payment as aborted."""
    out = tmp_path / "s.json"
    with payments_server() as server:
        server.RequestHandlerClass = _NoTx
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = _run(out, "--target", url, "--scenario", "payments", "--vus", "2")
    doc = orjson.loads(out.read_bytes())
    assert res.returncode != 0
    assert doc["requests"]["errors"] > 0 and server.posts["/webhooks/silvergate"] == 0
    assert doc["flows"]["payment"]["aborted"] > 0, doc["flows"]


class _NoTx(_Payments):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.posts[self.path] += 1
        self._answer(200, b'{"id": "pay_1"}')


def test_verify_reads_each_flow_back_through_the_files_read_url(tmp_path: Path) -> None:
    """--verify samples payments and refunds that ended accepted and reads each
    back (GET /api/v1/payments/{id}, status at $.status) until it shows what the
    file's read.expect says."""
    out = tmp_path / "s.json"
    with payments_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = _run(out, "--target", url, "--scenario", "payments", "--vus", "3", "--verify", "8")
    assert res.returncode == 0, res.stderr + res.stdout
    v = orjson.loads(out.read_bytes())["verification"]
    assert list(v["flows"]) == ["payments", "refunds"], v
    assert v["ok"] and v["sampled"] == v["applied"] == 8, v
    assert v["flows"]["payments"]["sampled"] == v["flows"]["payments"]["applied"] == 8, v
    assert v["flows"]["refunds"]["sampled"] == v["flows"]["refunds"]["applied"] == 8, v
    assert "disputes" not in v, v  # ingest's key only
    assert "Verified: 8 of 8 sampled payments applied" in res.stdout, res.stdout
    assert "Verified: 8 of 8 sampled refunds in their final status" in res.stdout


def test_verify_finds_a_payment_the_service_did_not_apply(tmp_path: Path) -> None:
    """A receiver that answers 202 and never applies a voided or failed capture
    (what the service does with an invalid transition): --verify says so."""
    out = tmp_path / "s.json"
    with payments_server() as server:
        server.ignore = ("transaction.voided",)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = _run(
            out,
            *("--target", url, "--scenario", "payments", "--vus", "3", "--verify", "30"),
            *("--verify-wait", "1s"),
        )
    v = orjson.loads(out.read_bytes())["verification"]
    assert res.returncode != 0 and not v["ok"], v
    assert v["other_status"] > 0 and v["mismatches"], v
    assert {m["expected"] for m in v["mismatches"] if m["kind"] == "payment"} == {"voided"}
    assert {m["flow"] for m in v["mismatches"] if m["kind"] == "payment"} == {"payments"}


def test_an_oversized_api_answer_is_an_error_not_a_memory_bill(tmp_path: Path) -> None:
    """An API answer over 1 MiB (docs/HOSTILE.md) is refused as oversized."""
    out = tmp_path / "s.json"
    with payments_server() as server:
        server.RequestHandlerClass = _Huge
        url = f"http://127.0.0.1:{server.server_address[1]}"
        _run(out, "--target", url, "--scenario", "payments", "--vus", "1", "--duration", "1s")
    doc = orjson.loads(out.read_bytes())
    assert doc["errors_by_kind"]["oversized"] > 0, doc["errors_by_kind"]
    assert server.posts["/webhooks/silvergate"] == 0


class _Huge(_Payments):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.posts[self.path] += 1
        self._answer(200, b'{"id": "pay_1", "pad": "' + b"x" * (2 << 20) + b'"}')
