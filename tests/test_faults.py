"""A misbehaving target: down, hanging, failing, resetting. The run copes and ends on time."""

from __future__ import annotations

import time

import pytest

from engine.config import CLIENTS, build_config
from engine.run.preflight import TargetUnreachable
from engine.run.runner import Runner
from tests.helpers import free_port, legacy, raw_server, target_process

pytestmark = pytest.mark.anyio


async def test_target_down_is_reported_before_any_load() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    runner = Runner(build_config({"target": url, "duration": "5s"}))
    with pytest.raises(TargetUnreachable) as err:
        await runner.run()
    assert url in str(err.value) and "--target builtin" in str(err.value)


@pytest.mark.parametrize("client", CLIENTS)
async def test_hanging_target_does_not_stretch_the_run(client: str) -> None:
    async with raw_server("hang") as url:
        cfg = build_config(
            {"target": url, "vus": "5", "duration": "1s", "timeout": "60s", "client": client}
        )
        started = time.monotonic()
        result = await Runner(cfg).run()
        took = time.monotonic() - started
    # Without cancellation this would take the 60 s request timeout.
    assert took < 10
    assert result.total.cancelled == 5
    assert result.total.total == 0 and result.total.errors == 0


async def test_request_timeout_is_an_error_of_kind_timeout() -> None:
    async with raw_server("hang") as url:
        cfg = build_config({"target": url, "vus": "2", "duration": "1500ms", "timeout": "300ms"})
        result = await Runner(cfg).run()
    assert result.total.errors_by_kind.get("timeout", 0) >= 2
    assert result.total.errors == result.total.errors_by_kind["timeout"]


async def test_5xx_storm_is_counted_and_the_run_goes_on() -> None:
    with target_process("--fail-rate", "0.5") as url:
        cfg = build_config({"target": url, "vus": "4", "duration": "1s", "think": "0"})
        result = await Runner(cfg).run()
    t = result.total
    sc = legacy(t.scenarios)
    assert t.status_codes.get(503, 0) > 10 and t.status_codes.get(202, 0) > 10
    assert t.errors_by_kind["http_5xx"] == t.status_codes[503]
    assert sc["orders_aborted"] > 0
    # a failed step ends its scenario: no dispute follows an unaccepted success
    assert sc["disputes_opened"] <= sc["orders_success"]
    assert t.status_codes.get(404, 0) == 0 and t.status_codes.get(422, 0) == 0


@pytest.mark.parametrize("client", CLIENTS)
async def test_connection_reset_is_counted(client: str) -> None:
    async with raw_server("reset") as url:
        cfg = build_config({"target": url, "vus": "2", "duration": "700ms", "client": client})
        result = await Runner(cfg).run()
    kinds = result.total.errors_by_kind
    assert result.total.errors > 0 and result.total.success == 0
    assert kinds.get("connect", 0) + kinds.get("other", 0) == result.total.errors


async def test_a_hanging_read_api_does_not_stretch_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.run.verify.READ_TIMEOUT_S", 60.0)  # unbounded, this would take 60 s
    async with raw_server("hang") as read_api:
        with target_process() as url:
            cfg = build_config(
                {
                    "target": url,
                    "vus": "2",
                    "duration": "500ms",
                    "verify": "5",
                    "verify_wait": "300ms",
                    "read_api": read_api,
                }
            )
            started = time.monotonic()
            result = await Runner(cfg).run()
            took = time.monotonic() - started
    # the run, then at most the wait plus a second of grace, not the read timeout
    assert took < 20
    v = result.verification
    assert v is not None and not v.ok and v.tally("orders").errors == 5
