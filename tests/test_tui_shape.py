"""The TUI's split and endpoint panels name what they show by the run's Shape."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from engine.domain.outcomes import FlowKeys
from engine.domain.shape import INGEST_SHAPE, FlowShape, Shape
from engine.metrics.saturation import judge
from engine.metrics.stats import Snapshot, Stats
from tui.widgets import SplitPanel
from tui.widgets.data import LiveData
from tui.widgets.gates import EndpointsPanel

pytestmark = pytest.mark.anyio

INTENT = FlowShape(
    "payment_intent", "Payment intents", ("created", "succeeded", "failed"), ("succeeded", "failed")
)
STRIPE = Shape("stripe", ("stripe", "reads"), (INTENT,))


class Panels(App[None]):
    def compose(self) -> ComposeResult:
        yield SplitPanel("Orders / disputes", id="split")
        yield EndpointsPanel("Endpoints", id="endpoints")


def data(total: Snapshot, shape: Shape) -> LiveData:
    return LiveData(
        total=total,
        last10=Snapshot(),
        rate=0.0,
        errors_per_s=[],
        requests_per_s=[],
        elapsed=1.0,
        duration=10.0,
        state="running",
        saturation=judge(Snapshot()),
        endpoint_rates=tuple(0.0 for _ in shape.endpoints),
        shape=shape,
    )


def names(rows: str) -> list[str]:
    """The endpoint names of the Endpoints panel's rows, under its header."""
    return [r.split("[/]")[0].removeprefix("[b]").strip() for r in rows.splitlines()[1:]]


async def test_another_scenarios_flows_and_endpoints_are_shown() -> None:
    st = Stats(endpoints=STRIPE.endpoints)
    keys = FlowKeys.for_flow(INTENT)
    for _ in range(4):
        st.record_response(0, 200, 1000)
        st.scenario(keys.started)
    for _ in range(3):
        st.scenario(keys.ended["succeeded"])
    total = st.take(1.0)
    async with Panels().run_test(size=(100, 30)) as pilot:
        split = pilot.app.query_one(SplitPanel)
        split.configure(STRIPE)
        assert split.border_title == "Payment intents"
        text = split.lines(data(total, STRIPE))
        assert "Payment intents" in text and "4 started" in text
        assert "succeeded 3  failed 0" in text and "Orders" not in text
        assert "stripe" in text
        # a file with no read-back never reads: no `reads 0` row (as --no-ui's summary)
        assert "reads" not in text.lower()
        endpoints = pilot.app.query_one(EndpointsPanel)
        assert names(endpoints.lines(data(total, STRIPE))) == ["stripe"]
        st.record_response(1, 200, 1000)  # once there are reads (--read-ratio), they show
        read = total + st.take(2.0)
        assert names(endpoints.lines(data(read, STRIPE))) == ["stripe", "reads"]
        assert "reads" in split.lines(data(read, STRIPE))
        split.configure(INGEST_SHAPE)
        assert split.border_title == "Orders / disputes"
