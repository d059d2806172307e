"""The TUI's keys and endings through Textual's Pilot, on scripted runners
(no sockets): Esc, the footer in a field, quitting mid-run, `r`, the disabled
form, `j`, and the exit codes of ``--no-ui`` (the layout: test_tui_layout.py)."""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select

from engine.config import RunConfig, build_config
from engine.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE, EXIT_UNVERIFIED
from engine.metrics.stats import merge_all
from engine.outputs.docparts import endpoint_lines
from engine.outputs.summary import detail_lines, summary_lines, verification_lines
from engine.run.preflight import TargetUnreachable
from engine.run.runner import RunResult, SnapshotSink
from engine.run.verify import Verification
from engine.run.verify_result import Tally
from tests.scripted import ScriptedRunner, scripted_deltas
from tui.app import RunnerFactory, WebhookLoadApp
from tui.form import FormInput, RunForm
from tui.outcome import print_outcome
from tui.widgets import ProgressPanel, SummaryPanel

pytestmark = pytest.mark.anyio
SIZE = (120, 36)
URL = "http://127.0.0.1:3001"
CONFIG = build_config({"target": URL, "duration": "20s"})
SCRIPTED_TOTAL = merge_all(scripted_deltas()).total


async def wait_for(pilot: Pilot[int], cond: Callable[[], object], limit_s: float = 20) -> None:
    """Let the app run until ``cond()`` holds (a bounded wait, not a timing assert)."""
    for _ in range(int(limit_s / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def scripted(*, finish: bool) -> RunnerFactory:
    def factory(config: RunConfig, sink: SnapshotSink) -> ScriptedRunner:
        return ScriptedRunner(config, sink, finish=finish)

    return factory


class UnreachableRunner:
    def __init__(self, config: RunConfig, sink: SnapshotSink) -> None:
        self.config = config

    async def run(self) -> RunResult:
        raise TargetUnreachable(self.config.target, "connection refused")

    def stop(self) -> None:
        pass


class UnverifiedRunner(ScriptedRunner):
    """Finishes like the scripted run, but --verify found 3 of 10 orders missing."""

    def __init__(self, config: RunConfig, sink: SnapshotSink) -> None:
        super().__init__(config, sink, finish=True)

    async def run(self) -> RunResult:
        result = await super().run()
        check = Verification(URL, (("orders", Tally(10, 7, 3)), ("disputes", Tally())), 10.0)
        return dataclasses.replace(result, verification=check)


def shown_bindings(app: WebhookLoadApp) -> dict[str, tuple[str, bool]]:
    """What the footer offers: key -> (description, enabled)."""
    return {
        key: (active.binding.description, active.enabled)
        for key, active in app.screen.active_bindings.items()
        if active.binding.show
    }


def in_form(app: WebhookLoadApp) -> bool:
    form = app.query_one(RunForm)
    return app.focused is not None and (app.focused is form or form in app.focused.ancestors)


# --- 12: Esc and the footer ------------------------------------------------------


async def test_esc_leaves_the_form_so_single_keys_act() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        assert in_form(app)
        await pilot.press("escape")
        assert not in_form(app) and app.focused is not None
        await pilot.press("s")
        await wait_for(pilot, lambda: app.state == "running")
        assert app.query_one("#f-target", Input).value == URL  # nothing typed into it
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


async def test_footer_offers_the_keys_that_work_in_a_field() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#f-vus", Input).focus()
        await pilot.pause()
        shown = shown_bindings(app)
        assert shown.get("enter") == ("Start", True)
        assert shown.get("escape") == ("Leave form", True)
        assert shown.get("ctrl+c") == ("Quit", True)
        assert not {"s", "q", "r", "j", "x"} & set(shown)  # typed, so not offered
        app.query_one("#f-vus", Input).value = "-1"
        await pilot.pause()
        assert shown_bindings(app).get("enter") == ("Start", False)
        # out of the form the letters act and are offered again
        await pilot.press("escape")
        assert {"s", "q"} <= set(shown_bindings(app))


async def test_ctrl_c_in_a_field_quits() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.focused, FormInput)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.return_value is not None)
        assert app.return_value == EXIT_OK


# --- 13, 14: quitting mid-run keeps the run ----------------------------------------


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_mid_run_stops_it_and_keeps_summary_and_json(key: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    app = WebhookLoadApp(
        CONFIG, json_path=str(out), autostart=True, runner_factory=scripted(finish=False)
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        await pilot.press(key)
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == EXIT_INTERRUPTED  # as --no-ui after Ctrl+C
    assert app.result is not None and app.result.stopped
    doc = json.loads(out.read_text())
    assert doc["stopped_early"] is True
    assert doc["requests"]["total"] == SCRIPTED_TOTAL


async def test_summary_block_is_printed_after_the_app_closes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=scripted(finish=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == EXIT_OK and app.result is not None
    capsys.readouterr()
    print_outcome(app)
    r = app.result
    want = (
        summary_lines(r.total, r.elapsed)
        + endpoint_lines(r.total, r.elapsed)
        + detail_lines(r.total)
        + verification_lines(r)
    )
    assert capsys.readouterr().out == "\n".join(want) + "\n"


async def test_sigterm_acts_like_q_and_the_handlers_go_with_the_app() -> None:
    app = WebhookLoadApp(
        CONFIG, autostart=True, runner_factory=scripted(finish=False), handle_signals=True
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        # never send the signal unless it is handled: it would end pytest
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        signal.raise_signal(signal.SIGTERM)
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == EXIT_INTERRUPTED
    assert app.result is not None and app.result.stopped
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# --- exit codes and the summary's words (items 10, issue 8) ----------------------


async def test_unreachable_with_exit_on_finish_exits_3_without_waiting() -> None:
    app = WebhookLoadApp(
        CONFIG, autostart=True, exit_on_finish=True, runner_factory=UnreachableRunner
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == EXIT_UNREACHABLE
    assert app.failure is not None and "cannot reach target" in app.failure


async def test_unreachable_then_quit_exits_3_and_progress_is_not_starting() -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=UnreachableRunner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.failure is not None)
        await pilot.pause(0.3)  # a refresh tick or more
        progress = app.query_one(ProgressPanel).plain
        assert "starting" not in progress and "not started" in progress
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == EXIT_UNREACHABLE


async def test_failed_verification_is_not_called_completed_and_exits_4() -> None:
    app = WebhookLoadApp(
        CONFIG,
        autostart=True,
        exit_on_finish=True,
        runner_factory=lambda c, s: UnverifiedRunner(c, s),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished")
        text = app.query_one(SummaryPanel).plain
        assert "Run completed" not in text
        assert "--verify found 3 orders in the wrong status" in text
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == EXIT_UNVERIFIED


async def test_a_stopped_run_says_it_was_stopped_early() -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")
        assert "Run stopped early after 10.0s of 20s" in app.query_one(SummaryPanel).plain


# --- 16: r and the form during a run -----------------------------------------------


async def test_r_is_offered_only_after_a_run() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        assert "r" not in shown_bindings(app)
        await pilot.press("r")
        await pilot.pause(0.1)
        assert app.state == "idle"
        await pilot.press("s")
        await wait_for(pilot, lambda: app.state == "finished")
        assert shown_bindings(app).get("r") == ("Run again", True)


async def test_r_refuses_an_invalid_form_like_s() -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=scripted(finish=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished")
        first = app.result
        app.query_one("#f-vus", Input).value = "-1"
        await pilot.pause()
        app.query_one("#summary-view").focus()
        await pilot.press("r")
        await pilot.pause(0.1)
        assert app.state == "finished" and app.result is first
        assert any("Fix the form first" in str(n.title) for n in app._notifications)
        # a valid edit is what `r` runs next
        app.query_one("#f-vus", Input).value = "3"
        await pilot.pause()
        app.query_one("#summary-view").focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.result is not None and app.result is not first)
        assert app.result is not None and app.result.config.vus == 3


async def test_the_form_is_disabled_during_a_run() -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        fields = [*app.query(FormInput), app.query_one(Select), app.query_one("#start", Button)]
        assert all(not w.focusable for w in fields)
        vus = app.query_one("#f-vus", Input)
        await pilot.click(vus)
        await pilot.press("7")
        assert vus.value == str(CONFIG.vus)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")
        assert all(w.focusable for w in fields)


# --- 11: j ---------------------------------------------------------------------------


async def test_j_saves_into_a_results_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=scripted(finish=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished")
        await pilot.press("j")
        await pilot.pause()
    assert [p.name async for p in anyio.Path(tmp_path).iterdir()] == ["webhookload-results"]
    files = list((tmp_path / "webhookload-results").glob("webhookload-*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["requests"]["total"] == SCRIPTED_TOTAL
