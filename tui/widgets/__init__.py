"""Small, reusable widgets of the live view; each renders from a :class:`LiveData`."""

from __future__ import annotations

from tui.widgets.data import LiveData
from tui.widgets.panels import (
    CodesPanel,
    CountersPanel,
    LatencyPanel,
    ProgressPanel,
    RatesPanel,
    SplitPanel,
)
from tui.widgets.summary import SummaryPanel

__all__ = [
    "CodesPanel",
    "CountersPanel",
    "LatencyPanel",
    "LiveData",
    "ProgressPanel",
    "RatesPanel",
    "SplitPanel",
    "SummaryPanel",
]
