"""A new user's findings in the TUI: the Summary panel carries the --no-ui
summary's Delivery and Sample failures lines; the form refuses Duration with
Stages and does not offer VUs in the open model; the Progress panel's stage
target and live status codes are shown whole at 120x36 and 80x24."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from engine.config import build_config
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.saturation import Saturation
from engine.metrics.stats import Stats
from engine.outputs.delivery import delivery_lines
from engine.outputs.summary import failure_lines
from engine.run.runner import RunResult
from tui.app import WebhookLoadApp
from tui.form import RunForm
from tui.headless import stage_text
from tui.widgets import SummaryPanel
from tui.widgets.data import LiveData
from tui.widgets.panels import CodesPanel, Panel, ProgressPanel

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name

SIZE = (120, 36)

pytestmark = pytest.mark.anyio


class SummaryOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield SummaryPanel(id="summary")


async def test_the_summary_panel_has_the_delivery_and_sample_failure_lines() -> None:
    st = Stats()
    for _ in range(5):
        st.record_response(ORDER_EP, 202, 1000)
    st.record_response(ORDER_EP, 503, 2000, body_head=b"service unavailable")
    st.delivered("duplicates_sent", 3)
    st.delivered("duplicates_rejected", 3)
    st.delivered("retries", 2)
    total = st.take(1.0)
    result = RunResult(build_config({"duration": "1s"}), "http://127.0.0.1:1", total, 1.0, False)
    want = delivery_lines(total) + failure_lines(total)
    assert want[0].startswith("Delivery: duplicates=3") and "Sample failures:" in want
    async with SummaryOnly().run_test(size=(120, 36)) as pilot:
        panel = pilot.app.query_one(SummaryPanel)
        panel.show_result(result, None)
        text = panel.plain
    words = " ".join(text.split())  # the panel wraps a line wider than it
    for line in want:  # the very lines --no-ui prints
        assert " ".join(line.split()) in words, (line, text)


async def test_stages_disable_duration_and_show_their_sum() -> None:
    """Duration 8s with Stages 3s:20,3s:0 ran 6 s, the 8s on screen ignored:
    the CLI refuses --duration with --stages, so the form turns Duration off
    and shows the stages' sum in it; clearing Stages gives Duration back."""
    app = WebhookLoadApp(build_config({}))
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        duration = app.query_one("#f-duration", Input)
        duration.value = "8s"
        app.query_one("#f-stages", Input).value = "3s:20,3s:0"
        await pilot.pause()
        assert duration.disabled and duration.value == "6s"
        assert form.is_valid, form.errors
        assert form.config().duration == 6.0
        app.query_one("#f-stages", Input).value = ""
        await pilot.pause()
        assert not duration.disabled and form.is_valid


async def test_the_open_model_turns_vus_off_with_a_note() -> None:
    """Started with --rate 500, VUs showed 10 and took edits that changed nothing:
    it is off and says the open model runs at 500/s."""
    app = WebhookLoadApp(build_config({"rate": "500", "duration": "5s"}))
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        vus = app.query_one("#f-vus", Input)
        await pilot.pause()
        assert vus.disabled and vus.value == "open model: --rate 500/s"
        assert form.is_valid, form.errors
        assert form.config().rate == 500.0


def shown(panel: Panel) -> str:
    """The panel's rows as drawn: cropped to its width, as on screen."""
    return "\n".join(panel.render_line(y).text for y in range(panel.size.height))


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_the_stage_target_and_every_status_count_are_shown_whole(
    size: tuple[int, int],
) -> None:
    """The Progress panel cut the stage's target at the border, and the live
    status codes lost the count after 503, at 120 and 160 columns."""
    st = Stats()
    for code, n in ((202, 1817), (404, 56), (409, 161), (503, 12)):
        for _ in range(n):
            st.record_response(ORDER_EP, code, 1000)
    total = st.take(1.0)
    cfg = build_config({"stages": "3s:20,3s:0"})
    stage = stage_text(cfg, 1.0)
    assert re.fullmatch(r"stage 1/2, target \d+ VUs", stage), stage
    data = LiveData(total, total, 0.0, [], [], 1.0, 6.0, "running", Saturation(), stage=stage)
    app = WebhookLoadApp(cfg)
    async with app.run_test(size=size) as pilot:
        progress, codes = app.query_one(ProgressPanel), app.query_one(CodesPanel)
        await pilot.pause()
        app.refresh_live()  # the app's own (idle) data first: it then stays clean
        progress.show(data)  # ours, read back before the event loop runs again
        codes.show(data)
        first = shown(progress).splitlines()[0]
        assert "1.0s / 6s" in first and "running" in first, first
        words = first.rstrip()
        assert words.endswith((stage, stage.replace(", target ", " → "))), first
        line = shown(codes).splitlines()[0]
        # every code with its count: full (1,817) or compact, none cut off
        assert re.fullmatch(r"codes +202 1,817 +404 56 +409 161 +503 12 *", line), line
