"""Responses are judged by what the request expected (engine/scenario/expect.py),
and the stats count by that verdict."""

from __future__ import annotations

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Stats
from engine.scenario.expect import ACCEPTS, STATUS_CODES, Expect, accepted

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name


def test_reads_accept_below_300_only() -> None:
    # issue 21: a 3xx is no longer a success (no client follows it: nothing was read)
    table = ACCEPTS[Expect.READ]
    assert isinstance(table, tuple) and len(table) == STATUS_CODES == 1000
    assert [s for s in range(STATUS_CODES) if table[s]] == list(range(300))


def test_a_webhook_is_delivered_on_a_2xx_only() -> None:
    """Issue 22: a provider retries anything but a 2xx; a redirect is a failure
    (Stripe, Svix, Standard Webhooks), so a 3xx or 1xx is an error here too."""
    table = ACCEPTS[Expect.FIRST]
    assert [s for s in range(STATUS_CODES) if table[s]] == list(range(200, 300))
    for expect in (Expect.DUPLICATE, Expect.EARLY):
        assert not any(ACCEPTS[expect][s] for s in (100, 199, 301, 302, 307, 308, 399))


def test_duplicates_and_early_events_are_errors_only_on_a_5xx() -> None:
    """Issue 19: a 5xx is never a success, whatever was sent; any 4xx on a fault
    delivery is no error (faults.py counts a refused duplicate apart)."""
    dup, early = ACCEPTS[Expect.DUPLICATE], ACCEPTS[Expect.EARLY]
    no_error = [*range(200, 300), *range(400, 500)]
    assert [s for s in range(STATUS_CODES) if dup[s]] == no_error
    assert [s for s in range(STATUS_CODES) if early[s]] == no_error
    assert dup[202] and early[202]  # a receiver that simply applies them
    assert not dup[500] and not early[500] and not dup[503] and not early[599]


def test_every_kind_has_a_table_and_odd_codes_are_never_accepted() -> None:
    assert set(ACCEPTS) == set(Expect)
    assert accepted(Expect.DUPLICATE, 409) and not accepted(Expect.FIRST, 409)
    assert not accepted(Expect.FIRST, 1000) and not accepted(Expect.FIRST, -1)


def test_stats_count_by_the_verdict_not_the_status() -> None:
    """A 409 the request expected is a success; an answer it did not expect is an
    error of its HTTP class (a 3xx is a ``redirect``; one below 300 has none: ``other``)."""
    st = Stats()
    assert st.record_response(ORDER_EP, 409, 100, b"", ACCEPTS[Expect.DUPLICATE][409])
    assert not st.record_response(ORDER_EP, 409, 100, b"dup", ACCEPTS[Expect.FIRST][409])
    assert not st.record_response(ORDER_EP, 200, 100, b"", False)
    assert st.record_response(ORDER_EP, 202, 100)  # no verdict given: status < 300
    assert not st.record_response(ORDER_EP, 307, 100, b"redirect to http://elsewhere/")
    snap = st.take(1.0)
    assert (snap.success, snap.errors) == (2, 3)
    assert dict(snap.errors_by_kind) == {"http_4xx": 1, "other": 1, "redirect": 1}
    assert dict(snap.status_codes) == {409: 2, 200: 1, 202: 1, 307: 1}
