"""A Stripe webhook endpoint written from Stripe's documentation only.

What Stripe's docs tell an endpoint to do, and nothing webhookload knows:
verify ``Stripe-Signature`` with the official library
(``stripe.Webhook.construct_event``: HMAC-SHA256 of ``"{t}.{body}"`` with the
``whsec_`` secret, 300 s tolerance), answer 2xx quickly, expect duplicates
(deduplicate by the event's ``id``) and any order. On top of that, as a strict
integrator would, it checks every event against Stripe's published OpenAPI
schemas (tests/data/stripe/): the envelope against ``event``, ``data.object``
against the schema of the event type's resource, every field Stripe's example
object carries is present (real objects carry all of them, even the null ones),
and the object's status is the one Stripe documents for that event type.

A request that fails any check gets a 400 and its reason is kept, so a test can
say exactly what was wrong. A real loopback aiohttp server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import stripe
from aiohttp import web

DATA = Path(__file__).parent.parent / "data" / "stripe"
PATH = "/webhook"

# The object's status per event type, as Stripe's docs describe each event:
# "How PaymentIntents work" (a failed attempt returns the intent to
# requires_payment_method) and "The Dispute object" (status).
STATUS_FOR_TYPE: dict[str, frozenset[str]] = {
    "payment_intent.created": frozenset({"requires_payment_method"}),
    "payment_intent.processing": frozenset({"processing"}),
    "payment_intent.succeeded": frozenset({"succeeded"}),
    "payment_intent.payment_failed": frozenset({"requires_payment_method"}),
    "charge.dispute.created": frozenset({"needs_response", "warning_needs_response"}),
    "charge.dispute.updated": frozenset(
        {"needs_response", "under_review", "warning_needs_response", "warning_under_review"}
    ),
    "charge.dispute.closed": frozenset({"won", "lost", "warning_closed"}),
}


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema: null is one more allowed value
    (also where the field is an ``anyOf`` or an ``enum``, as Stripe's README says)."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if "anyOf" in node:
            node["anyOf"] = [*node["anyOf"], {"type": "null"}]
        elif "type" in node:
            node["type"] = [node["type"], "null"]
    return node


class Schemas:
    """Validators for the envelope and each resource, from the cut spec."""

    def __init__(self) -> None:
        spec = json.loads((DATA / "schemas.json").read_text())
        self.type_map: dict[str, str] = spec["x-event-type-map"]
        root = {"components": _nullable(spec["components"])}
        self._validators: dict[str, jsonschema.Draft4Validator] = {}
        for name in ("event", "payment_intent", "dispute"):
            schema = {**root, "$ref": f"#/components/schemas/{name}"}
            self._validators[name] = jsonschema.Draft4Validator(schema)
        fixtures = json.loads((DATA / "fixtures.json").read_text())["resources"]
        self.fields = {name: frozenset(obj) for name, obj in fixtures.items()}

    def problems(self, event: dict[str, Any]) -> list[str]:
        """What is wrong with one event, in Stripe's terms; empty when nothing."""
        out = [f"event: {e.message}" for e in self._validators["event"].iter_errors(event)]
        etype = event.get("type")
        resource = self.type_map.get(str(etype))
        if resource is None:
            return [*out, f"type {etype!r} is not a payment_intent or dispute event"]
        obj = event.get("data", {}).get("object", {})
        out += [f"{resource}: {e.message}" for e in self._validators[resource].iter_errors(obj)]
        missing = self.fields[resource] - set(obj)
        if missing:
            out.append(f"{resource}: fields Stripe always sends are missing: {sorted(missing)}")
        if obj.get("status") not in STATUS_FOR_TYPE[str(etype)]:
            out.append(f"{etype}: status {obj.get('status')!r} is not what Stripe documents")
        if etype == "payment_intent.payment_failed" and obj.get("last_payment_error") is None:
            out.append("payment_intent.payment_failed without last_payment_error")
        # "previous_attributes ... (only included in events of type *.updated)"
        updated = str(etype).endswith(".updated")
        if updated != ("previous_attributes" in event.get("data", {})):
            out.append(f"{etype}: data.previous_attributes is for *.updated events only, always")
        return out


@dataclass
class StripeReceiver:
    """Counts what it accepted, by event type; keeps each rejection's reason."""

    secret: str
    schemas: Schemas = field(default_factory=Schemas)
    accepted: Counter[str] = field(default_factory=Counter)  # first deliveries, by type
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> event

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.read()
        header = request.headers.get("Stripe-Signature", "")
        try:
            event = stripe.Webhook.construct_event(payload, header, self.secret)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            return self._reject(f"signature: {type(exc).__name__}: {exc}")
        body: dict[str, Any] = json.loads(payload)
        if event.id in self.seen:  # Stripe: "endpoints might occasionally receive the same event"
            self.duplicates += 1
            return web.json_response({"received": True})
        problems = self.schemas.problems(body)
        if problems:
            return self._reject(f"{body.get('type')} {body.get('id')}: " + "; ".join(problems))
        self.seen[event.id] = body
        self.accepted[body["type"]] += 1
        return web.json_response({"received": True})

    def _reject(self, reason: str) -> web.Response:
        self.rejected.append(reason)
        return web.json_response({"error": reason[:200]}, status=400)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self.handle)
        return app


async def serve(receiver: StripeReceiver) -> tuple[web.AppRunner, str]:
    """Start it on a free loopback port; the caller cleans the runner up."""
    runner = web.AppRunner(receiver.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    """Serve it by hand, for a real run against it (the issue's acceptance check):

        WEBHOOKLOAD_SECRET=whsec_x python -m tests.receivers.stripe_receiver --port 4242
        WEBHOOKLOAD_SECRET=whsec_x webhookload-tui --no-ui --scenario stripe \\
            --target http://127.0.0.1:4242 ...

    Prints what it accepted, the duplicates and every rejection when stopped (Ctrl-C).
    """
    import argparse
    import asyncio
    import contextlib
    import os

    parser = argparse.ArgumentParser(prog="python -m tests.receivers.stripe_receiver")
    parser.add_argument("--port", type=int, default=4242)
    ns = parser.parse_args(argv)
    receiver = StripeReceiver(os.environ["WEBHOOKLOAD_SECRET"])

    async def run() -> None:
        runner = web.AppRunner(receiver.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", ns.port).start()
        print(f"Stripe receiver on http://127.0.0.1:{ns.port}{PATH}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    accepted = sum(receiver.accepted.values())
    print(f"accepted {accepted} events, {receiver.duplicates} duplicates, ", end="")
    print(f"{len(receiver.rejected)} rejected")
    for etype, n in sorted(receiver.accepted.items()):
        print(f"  {etype}: {n}")
    for reason in receiver.rejected[:20]:
        print(f"  rejected: {reason}")


if __name__ == "__main__":
    main()
