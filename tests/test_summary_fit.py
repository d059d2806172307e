"""The TUI Summary's rows that must not wrap fit the panel: the whole rows where
there is room, the narrow ones (latencies under each endpoint, runs of spaces
made one) at 80x24's ~44 columns."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from engine.outputs.docparts import endpoint_lines, endpoint_lines_narrow
from engine.outputs.summary import summary_lines
from tests.test_compare import make_total
from tui.widgets.summary import Fit


def rendered(fit: Fit, width: int) -> list[str]:
    out = io.StringIO()
    Console(width=width, file=out, color_system=None).print(fit)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [40, 44, 60, 100])
def test_no_summary_row_wraps(width: int) -> None:
    total = make_total(latency=90.0)  # latencies of 100ms and more: the widest
    for fit in (
        Fit(summary_lines(total, 10.0)),
        Fit(endpoint_lines(total, 10.0), endpoint_lines_narrow(total, 10.0)),
    ):
        lines = rendered(fit, width)
        assert all(len(line) <= width for line in lines), lines
        wide = fit.wide
        if width >= max(map(len, wide)):
            assert lines == wide  # room: the rows as --no-ui prints them
        else:
            assert len(lines) == len(fit.narrow or wide)  # no row wrapped to two


def test_the_narrow_table_keeps_every_number() -> None:
    total = make_total()
    narrow = " ".join(endpoint_lines_narrow(total, 10.0)).split()
    for line in endpoint_lines(total, 10.0)[1:]:
        for cell in line.split():
            assert cell in narrow, cell
