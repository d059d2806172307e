"""The app driven through Textual's Pilot: the form, a real run, stop, run again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import anyio
import pytest
from textual.widgets import Button, Input, Static

from engine.config import RunConfig, build_config
from engine.metrics.stats import Snapshot
from engine.run.runner import RunResult, SnapshotSink
from tests.helpers import free_port, target_process
from tui.app import WebhookLoadApp
from tui.form import RunForm
from tui.widgets import CountersPanel, SummaryPanel

pytestmark = pytest.mark.anyio
SIZE = (120, 36)


async def wait_for(pilot: object, cond: object, limit_s: float = 30) -> None:
    """Let the app run until ``cond()`` holds (a bounded wait, not a timing assert)."""
    for _ in range(int(limit_s / 0.05)):
        if cond():  # type: ignore[operator]
            return
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    raise AssertionError("condition not reached")


def summary_text(app: WebhookLoadApp) -> str:
    return app.query_one(SummaryPanel).plain


async def test_tab_walks_the_fields_in_order_then_start() -> None:
    app = WebhookLoadApp(build_config({}))
    async with app.run_test(size=SIZE) as pilot:
        order = []
        for _ in range(9):
            order.append(app.focused.id if app.focused else None)
            await pilot.press("tab")
        assert order == [
            "f-target",
            "f-vus",
            "f-duration",
            "f-dispute_ratio",
            "f-think",
            "f-workers",
            "f-stages",
            "f-scenario",
            "start",
        ]


async def test_the_form_takes_stages_and_they_set_the_duration() -> None:
    """The Advanced field Stages: checked as you type with --stages' words; a
    valid one makes the run last the stages' sum."""
    app = WebhookLoadApp(build_config({}))
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        field = app.query_one("#f-stages", Input)
        field.value = "10s"
        await pilot.pause()
        assert "--stages must be stages like 30s:10" in form.errors["stages"]
        field.value = "10s:5,20s:0"
        await pilot.pause()
        assert form.is_valid
        config = form.config()
        assert (config.stages, config.duration) == ("10s:5,20s:0", 30.0)


async def test_stages_without_vus_start_from_zero_and_autostart() -> None:
    """``--stages`` without ``--vus`` ramps from 0 VUs: the form shows VUs 0, and
    that is valid while Stages is set (it was refused, so --autostart never ran);
    without Stages, 0 is refused again."""
    config = build_config({"stages": "10s:4,5s:0"})
    app = WebhookLoadApp(config)
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        await pilot.pause()
        assert app.query_one("#f-vus", Input).value == "0"
        assert form.is_valid, form.errors
        assert (form.config().vus, form.config().stages) == (0, "10s:4,5s:0")
        app.query_one("#f-stages", Input).value = ""
        await pilot.pause()
        assert "--vus must be a positive integer, got '0'" in form.errors["vus"]
        assert not form.is_valid


async def test_validation_as_you_type_disables_start() -> None:
    app = WebhookLoadApp(build_config({}))
    async with app.run_test(size=SIZE) as pilot:
        start = app.query_one("#start", Button)
        assert not start.disabled
        vus = app.query_one("#f-vus", Input)
        vus.focus()
        vus.value = ""
        await pilot.press("minus", "1")
        await pilot.pause()
        err = app.query_one("#e-vus", Static)
        assert err.display and "--vus must be a positive integer, got '-1'" in str(err.render())
        assert start.disabled
        vus.value = ""
        await pilot.press("2", "5")
        await pilot.pause()
        assert not err.display and not start.disabled
        app.query_one("#f-dispute_ratio", Input).value = "1.5"
        await pilot.pause()
        assert start.disabled


class _InstantRunner:
    """Finishes at once with an empty result: the form's part without a target."""

    def __init__(self, config: RunConfig, _sink: SnapshotSink) -> None:
        self.config = config

    async def run(self) -> RunResult:
        return RunResult(self.config, "http://127.0.0.1:1", Snapshot(), 0.0, False)

    def stop(self) -> None:
        pass


async def test_s_is_refused_once_the_form_turns_invalid() -> None:
    """``s``, pressed outside the form, starts a run while the form is valid and
    is refused, starting nothing, once a field is made invalid."""
    started: list[RunConfig] = []

    def factory(config: RunConfig, sink: SnapshotSink) -> _InstantRunner:
        started.append(config)
        return _InstantRunner(config, sink)

    app = WebhookLoadApp(build_config({}), runner_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        start = app.query_one("#start", Button)
        assert form.is_valid and not start.disabled
        await pilot.click("#live")  # leave the form, so `s` is a key binding
        assert app.focused is app.query_one("#live")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.state == "finished")
        assert len(started) == 1  # valid: `s` started a run

        ratio = app.query_one("#f-dispute_ratio", Input)
        ratio.focus()
        ratio.value = ""
        await pilot.press("1", "full_stop", "5")
        await pilot.click("#summary-view")
        assert ratio.value == "1.5" and not form.is_valid and start.disabled
        assert app.focused is app.query_one("#summary-view")
        await pilot.press("s")
        await pilot.pause()
        assert len(started) == 1 and app.state == "finished"  # nothing ran
        assert ratio.value == "1.5"  # and `s` was not typed into the field
        note = list(app._notifications)[-1]
        assert note.title == "Fix the form first" and "--dispute-ratio" in note.message


async def test_run_counts_move_then_summary_then_run_again(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process() as url:
        cfg = build_config({"target": url, "duration": "1500ms", "vus": "4"})
        app = WebhookLoadApp(cfg, json_path=str(out))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.click("#start")
            await wait_for(pilot, lambda: app.window.total.total > 0)
            assert app.state == "running"
            # the panels repaint changed lines only: the counters must still follow
            counters = app.query_one(CountersPanel)
            await wait_for(pilot, lambda: counters.plain.split()[4:5] not in ([], ["0"]))
            await wait_for(pilot, lambda: app.state == "finished")
            text = summary_text(app)
            assert "Requests:" in text and "SUMMARY" in text
            assert app.result is not None and app.result.total.errors == 0
            first_total = app.result.total.total
            assert json.loads(out.read_text())["requests"]["total"] == first_total
            first = app.result
            await pilot.press("r")  # Pilot may only return once the short run is over
            await wait_for(pilot, lambda: app.result is not None and app.result is not first)
            assert app.state == "finished"
            assert app.result.total.total > 0
            # the same settings; a run without --seed draws its own, and records it
            assert isinstance(app.result.config.seed, int)
            assert dataclasses.replace(app.result.config, seed=None) == cfg


async def test_stop_mid_run_shows_what_ran() -> None:
    with target_process() as url:
        app = WebhookLoadApp(
            build_config({"target": url, "duration": "0", "vus": "2"}), autostart=True
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.window.total.total > 20)
            await pilot.press("x")
            await wait_for(pilot, lambda: app.state == "finished")
            assert app.result is not None and app.result.stopped
            assert "Run stopped" in summary_text(app)
            # the form stays usable
            assert not app.query_one("#start", Button).disabled


async def test_unreachable_target_notifies_and_starts_nothing() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = WebhookLoadApp(build_config({"target": url}), autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "idle" and bool(app._notifications))
        note = list(app._notifications)[-1]
        assert url in note.message and "--target builtin" in note.message
        assert app.result is None and app.window.total.total == 0


async def test_save_json_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with target_process() as url:
        app = WebhookLoadApp(
            build_config({"target": url, "duration": "500ms", "vus": "2"}), autostart=True
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.state == "finished")
            await pilot.press("j")
            await pilot.pause()
            files = [
                f async for f in anyio.Path(tmp_path).glob("webhookload-results/webhookload-*.json")
            ]
            assert len(files) == 1
            assert json.loads(await files[0].read_text())["requests"]["total"] > 0
            assert "JSON summary:" in summary_text(app)
