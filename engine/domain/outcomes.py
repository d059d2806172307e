"""What a request or a journey can come to, as the domain's other names are: enums.

Here, below both the transports (which raise an :class:`ErrorKind`) and the
metrics (which count both), because neither of those layers may import the
other. StrEnums, so each member *is* its string: counters keyed by a member
are looked up by the plain name, and every report prints the same text.
One catch: orjson takes no ``str`` subclass as a dict *key*, so the ordered
name tuples the reports build their JSON from hold the plain values
(``ERROR_KINDS``, ``SCENARIO_KEYS`` in :mod:`engine.metrics.stats`).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """Why a request failed: no response (``connect``, ``timeout``, ``other``),
    a response past the bounds on what a server may send (``oversized``: a head
    over 64 KiB, too many interim answers, a body over 4 MiB; docs/HOSTILE.md),
    or a response that was not the one expected (``redirect``: a 3xx, which is
    never followed; ``http_4xx``, ``http_5xx``)."""

    CONNECT = "connect"
    TIMEOUT = "timeout"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    OTHER = "other"
    OVERSIZED = "oversized"
    REDIRECT = "redirect"


class ScenarioKey(StrEnum):
    """The scenario counters. Outcomes partition what was begun:
    ``orders_started`` = success + failed + aborted (a step rejected) +
    unfinished (cut off by the deadline or a stop); ``disputes_opened``
    (disputes begun) = won + lost + aborted + unfinished."""

    ORDERS_STARTED = "orders_started"
    ORDERS_SUCCESS = "orders_success"
    ORDERS_FAILED = "orders_failed"
    ORDERS_ABORTED = "orders_aborted"
    ORDERS_UNFINISHED = "orders_unfinished"
    DISPUTES_OPENED = "disputes_opened"
    DISPUTES_UPDATED = "disputes_updated"
    DISPUTES_WON = "disputes_won"
    DISPUTES_LOST = "disputes_lost"
    DISPUTES_ABORTED = "disputes_aborted"
    DISPUTES_UNFINISHED = "disputes_unfinished"
