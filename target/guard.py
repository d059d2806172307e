"""What every webhook passes before its body is judged, on every kind of
target (the ingest service's, the acquirer's, a scenario file's): its
signature (``--sign``: 401) and then ``--fail-rate`` (503)."""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import orjson
from aiohttp import web

from engine.domain.schemes import builtin
from engine.domain.signing import Verifier, make_verifier


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(code: int, message: str) -> web.Response:
    return json_response({"message": message}, status=code)


class Guard:
    """The signature check and the injected failures; counts refusals by reason."""

    def __init__(self, sign: str, secret: str, signature_header: str, fail_rate: float) -> None:
        self.verifier: Verifier | None = None
        self._signs_url = False
        if sign:
            self.verifier = make_verifier(sign, secret, signature_header)
            self._signs_url = "{url}" in builtin(sign).signed
        self.fail_rate = fail_rate
        self.signature_failures: Counter[str] = Counter()
        self._rng = random.Random()

    def check(self, request: web.Request, body: bytes) -> web.Response | None:
        """None when the webhook may be judged, else the answer that refuses it."""
        if self.verifier is not None:
            url = str(request.url) if self._signs_url else ""  # e.g. Square's scheme
            failure = self.verifier.verify(request.headers, body, time.time(), url)
            if failure is not None:
                self.signature_failures[failure.value] += 1
                return error_response(401, f"signature check failed: {failure}")
        if self.fail_rate and self._rng.random() < self.fail_rate:
            return error_response(503, "injected failure (--fail-rate)")
        return None
