"""Small, reusable widgets of the live view; each renders from a :class:`LiveData`."""

from __future__ import annotations

from tui.widgets.chart import ChartPanel
from tui.widgets.data import LiveData
from tui.widgets.delivery import DeliveryPanel
from tui.widgets.gates import EndpointsPanel, ThresholdsPanel
from tui.widgets.panels import (
    CodesPanel,
    CountersPanel,
    LatencyPanel,
    ProgressPanel,
    RatesPanel,
    SplitPanel,
)
from tui.widgets.seconds import LatencySeconds
from tui.widgets.summary import SummaryPanel, SummaryView

__all__ = [
    "ChartPanel",
    "CodesPanel",
    "CountersPanel",
    "DeliveryPanel",
    "EndpointsPanel",
    "LatencyPanel",
    "LatencySeconds",
    "LiveData",
    "ProgressPanel",
    "RatesPanel",
    "SplitPanel",
    "SummaryPanel",
    "SummaryView",
    "ThresholdsPanel",
]
