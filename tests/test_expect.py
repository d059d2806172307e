"""Responses are judged by what the request expected (engine/scenario/expect.py),
and the stats count by that verdict."""

from __future__ import annotations

import pytest

from engine.metrics.stats import ORDERS, Stats
from engine.scenario.expect import ACCEPTS, STATUS_CODES, Expect, accepted


@pytest.mark.parametrize("expect", [Expect.FIRST, Expect.READ])
def test_first_deliveries_and_reads_accept_below_300_only(expect: Expect) -> None:
    # issue 21: a 3xx is no longer a success (nothing was delivered; no client follows it)
    table = ACCEPTS[expect]
    assert isinstance(table, tuple) and len(table) == STATUS_CODES == 1000
    assert [s for s in range(STATUS_CODES) if table[s]] == list(range(300))


def test_duplicates_and_early_events_expect_the_strict_receivers_answer() -> None:
    dup, early = ACCEPTS[Expect.DUPLICATE], ACCEPTS[Expect.EARLY]
    assert [s for s in range(400, 1000) if dup[s]] == [409]
    assert [s for s in range(400, 1000) if early[s]] == [404]
    assert dup[202] and early[202]  # a receiver that simply applies them
    assert not dup[404] and not early[409] and not dup[500] and not early[500]


def test_every_kind_has_a_table_and_odd_codes_are_never_accepted() -> None:
    assert set(ACCEPTS) == set(Expect)
    assert accepted(Expect.DUPLICATE, 409) and not accepted(Expect.FIRST, 409)
    assert not accepted(Expect.FIRST, 1000) and not accepted(Expect.FIRST, -1)


def test_stats_count_by_the_verdict_not_the_status() -> None:
    """A 409 the request expected is a success; an answer it did not expect is an
    error of its HTTP class (a 3xx is a ``redirect``; one below 300 has none: ``other``)."""
    st = Stats()
    assert st.record_response(ORDERS, 409, 100, b"", ACCEPTS[Expect.DUPLICATE][409])
    assert not st.record_response(ORDERS, 409, 100, b"dup", ACCEPTS[Expect.FIRST][409])
    assert not st.record_response(ORDERS, 200, 100, b"", False)
    assert st.record_response(ORDERS, 202, 100)  # no verdict given: status < 300
    assert not st.record_response(ORDERS, 307, 100, b"redirect to http://elsewhere/")
    snap = st.take(1.0)
    assert (snap.success, snap.errors) == (2, 3)
    assert dict(snap.errors_by_kind) == {"http_4xx": 1, "other": 1, "redirect": 1}
    assert dict(snap.status_codes) == {409: 2, 200: 1, 202: 1, 307: 1}
