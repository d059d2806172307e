"""The reference target for any scenario file (``--scenario NAME|PATH``).

What to recognise in an event comes from the file itself
(engine/scenario/receiver.py, from the compiled templates); this module
serves it: each webhook checks the event's id (a redelivery of an applied
event is answered as the webhook's ``accept.duplicate`` expects: 409 where
listed, else 200, never applied again) and its flow run's transition (an
event of an unknown run that is not an initial state, or a transition the
flow does not have, is answered with a code the webhook's ``accept.early``
lists); each ``[api.NAME]`` answers JSON with its ``capture`` paths filled
(ids issued here, values the request sent kept); each flow's ``read`` shows
the run's state through ``read.expect``. ``/stats`` counts what came in.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from engine.scenario.placeholders import Slot
from engine.scenario.reading import ReadRoute, Receiver
from target.guard import error_response, json_response
from target.scenario_service import ScenarioService
from target.server import TargetConfig


def _pattern(parts: tuple[str | Slot, ...]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A URL template as a regex of its path (query and origin dropped) and the
    variables its groups hold."""
    out, names = "", []
    for part in parts:
        if isinstance(part, Slot):
            out += "([^/?]+)"
            names.append(f"{part.kind}.{part.name}")
            continue
        text = re.sub(r"^https?://[^/]*", "", part) if not out else part
        if "?" in text:
            out += re.escape(text.split("?", 1)[0])
            break
        out += re.escape(text)
    return re.compile(out or "/"), tuple(names)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_scenario_app(config: TargetConfig, receiver: Receiver) -> web.Application:
    """The aiohttp application of one scenario; tests mount it directly."""
    svc = ScenarioService(config, receiver)
    app = web.Application()
    app["service"] = svc
    c = receiver.scenario
    hooks: dict[tuple[str, str], int] = {}
    for i, w in enumerate(c.webhooks):
        path = re.sub(r"^https?://[^/]*", "", w.url) if w.absolute else w.url
        hooks[w.method, path or "/"] = i
    apis = [(a.method, *_pattern(a.url), a) for a in receiver.apis]
    reads: dict[str, tuple[re.Pattern[str], tuple[str, ...], list[ReadRoute]]] = {}
    for r in receiver.reads:
        pattern, names = _pattern(r.url)
        reads.setdefault(pattern.pattern, (pattern, names, []))[2].append(r)

    async def webhook(hook: int, request: web.Request) -> web.Response:
        if config.delay:
            await asyncio.sleep(config.delay)
        name = c.webhooks[hook].name
        try:
            body = await request.read()
        except ConnectionError:  # the client left mid-request
            return web.Response(status=400)
        refused = svc.guard.check(request, body)
        if refused is not None:
            svc.received[name, refused.status] += 1
            return refused
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            code, message = 400, "body is not valid JSON"
        else:
            code, message = svc.judge(hook, payload, request.headers)
        svc.received[name, code] += 1
        if code < 300:
            return web.Response(status=code)
        return error_response(code, message)

    async def dispatch(request: web.Request) -> web.StreamResponse:
        path = request.path
        hook = hooks.get((request.method, path))
        if hook is not None:
            return await webhook(hook, request)
        for method, pattern, _, api in apis:
            m = pattern.fullmatch(path)
            if m is not None and method == request.method:
                body = await request.read()
                try:
                    payload = orjson.loads(body) if body else {}
                except orjson.JSONDecodeError:
                    svc.api[api.name, 400] += 1
                    return error_response(400, "body is not valid JSON")
                names = _pattern(api.url)[1]
                code, answer = svc.call(api, dict(zip(names, m.groups(), strict=True)), payload)
                svc.api[api.name, code] += 1
                return json_response(answer, code)
        if request.method == "GET":
            for pattern, names, routes in reads.values():
                m = pattern.fullmatch(path)
                if m is not None:
                    code, answer = svc.read(routes, names, m.groups())
                    svc.reads[code] += 1
                    return json_response(answer, code)
        return error_response(404, f"nothing here: {request.method} {path}")

    async def stats(_: web.Request) -> web.Response:
        return json_response(svc.stats())

    async def health(_: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    app.router.add_get("/stats", stats)
    app.router.add_get("/health/live", health)
    app.router.add_get("/health/ready", health)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
