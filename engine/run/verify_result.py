"""What ``--verify`` found: counts per kind, and a bounded sample of mismatches.

Apart from the check itself (:mod:`engine.run.verify`) because every output
reads it (summary, JSON, TUI) and shards merge it; it does no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from engine.domain.sanitize import shown_url

MISSING = "(missing)"
"""What was found for an order (404) or dispute (not listed) the read API does not show."""
UNREADABLE = "(unreadable)"
"""What was found when the read API did not answer, or answered something unreadable."""
MAX_MISMATCHES = 10
"""Mismatches kept for the report (a run may have thousands; the counts have them all)."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One sampled order or dispute not in the status the run drove it to."""

    kind: str  # "order" | "dispute"
    order_id: str  # a dispute's too: one dispute per order, listed with its order id
    expected: str  # the status the run drove it to
    found: str  # the status the read API showed last, or MISSING / UNREADABLE
    event_id: str  # the last event the run had accepted for it (its X-Correlation-ID)

    @property
    def why(self) -> str:
        return {MISSING: "missing", UNREADABLE: "unreadable"}.get(self.found, "other_status")

    def describe(self) -> str:
        found = {MISSING: "not found", UNREADABLE: "unreadable"}.get(
            self.found, f"found {self.found}"
        )
        last = f" (last event accepted: {self.event_id})" if self.event_id else ""
        return f"{self.kind} {self.order_id}: expected {self.expected}, {found}{last}"

    def as_json(self) -> dict[str, object]:
        why = self.why
        return {
            "kind": self.kind,
            "order_id": self.order_id,
            "expected": self.expected,
            "found": self.found if why == "other_status" else None,
            "why": why,
            "event_id": self.event_id or None,
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """The sampled orders (or disputes) of one check, by what was found last."""

    sampled: int = 0
    applied: int = 0  # in the status the run drove them to
    missing: int = 0  # never applied (dead-lettered, or still queued)
    other_status: int = 0  # found, in another status (behind, or moved)
    errors: int = 0  # the read API failed to answer

    @classmethod
    def of(cls, sampled: int, left: Sequence[Mismatch]) -> Tally:
        whys = [m.why for m in left]
        return cls(
            sampled,
            sampled - len(left),
            whys.count("missing"),
            whys.count("other_status"),
            whys.count("unreadable"),
        )

    def __add__(self, other: Tally) -> Tally:
        mine, theirs = dataclasses.astuple(self), dataclasses.astuple(other)
        return Tally(*(a + b for a, b in zip(mine, theirs, strict=True)))

    def as_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def problems(self) -> str:
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.missing, "missing"),
                (self.other_status, "in another status"),
                (self.errors, "unreadable"),
            )
            if n
        ]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Verification:
    """What the read API showed for the sampled orders (the flat fields, as before
    disputes were checked) and disputes when the check ended."""

    read_api: str
    sampled: int
    applied: int  # in the status the run drove them to
    missing: int  # 404: never applied (dead-lettered, or still queued)
    other_status: int  # found, in another status
    errors: int  # the read API failed to answer
    waited_s: float  # until every order and dispute was settled, or the whole wait
    disputes: Tally = Tally()
    mismatches: tuple[Mismatch, ...] = ()  # at most MAX_MISMATCHES, moved ones first
    # what the two tallies count: ingest's orders and disputes, or a scenario
    # file's first two flows with a read-back (engine/run/verify_flows.py)
    labels: tuple[str, str] = ("orders", "disputes")
    # a file's further flows with a read-back, past the first two: (label, tally)
    more: tuple[tuple[str, Tally], ...] = ()

    @property
    def orders(self) -> Tally:
        return Tally(self.sampled, self.applied, self.missing, self.other_status, self.errors)

    @property
    def mismatched(self) -> int:
        """Flow runs not in their expected status (all, not only those kept)."""
        first = self.sampled - self.applied + self.disputes.sampled - self.disputes.applied
        return first + sum(t.sampled - t.applied for _, t in self.more)

    @property
    def ok(self) -> bool:
        return self.sampled > 0 and self.mismatched == 0

    def bounded(self) -> Verification:
        """Keep MAX_MISMATCHES, moved ones first, orders and disputes alike."""
        ranked = sorted(self.mismatches, key=lambda m: m.why != "other_status")
        orders = [m for m in ranked if m.kind == "order"]
        disputes = [m for m in ranked if m.kind != "order"]
        half = MAX_MISMATCHES // 2
        kept = orders[:half] + disputes[:half]
        rest = orders[half:] + disputes[half:]
        kept += rest[: MAX_MISMATCHES - len(kept)]
        kept.sort(key=lambda m: (m.why != "other_status", m.kind != "order"))
        return dataclasses.replace(self, mismatches=tuple(kept))

    def as_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            **self.orders.as_json(),
            "read_api": shown_url(self.read_api),
            "waited_s": round(self.waited_s, 3),
            "ok": self.ok,
            "disputes": self.disputes.as_json(),
            "mismatched": self.mismatched,
            "mismatches": [m.as_json() for m in self.mismatches],
        }
        if self.labels != ("orders", "disputes"):  # a file's flows: which ones these are
            doc["labels"] = list(self.labels)
        if self.more:
            doc["more"] = {label: t.as_json() for label, t in self.more}
        return doc

    def describe(self) -> str:
        """The orders' line (what ``Verified:`` said before disputes were checked)."""
        head = f"{self.applied} of {self.sampled} sampled {self.labels[0]} applied"
        where = shown_url(self.read_api)  # a token in its query: the name only
        if self.ok:
            return f"{head} (after {self.waited_s:.1f}s, read API {where})"
        problems = self.orders.problems()
        if not problems:
            return f"{head} (read API {where})"
        return f"{head}; after {self.waited_s:.1f}s {problems} (read API {where})"

    def lines(self) -> list[str]:
        """The summary's ``Verified:`` lines: orders, disputes, then the mismatches kept."""
        out = [f"Verified: {self.describe()}"]
        for label, d in ((self.labels[1], self.disputes), *self.more):
            if d.sampled:
                what = f"sampled {label} in their final status"
                line = f"Verified: {d.applied} of {d.sampled} {what}"
                out.append(f"{line}; {d.problems()}" if d.problems() else line)
        out += [f"  {m.describe()}" for m in self.mismatches]
        if self.mismatched > len(self.mismatches):
            out.append(f"  … and {self.mismatched - len(self.mismatches)} more")
        return out


def merge(parts: Sequence[Verification | None]) -> Verification | None:
    """The shards' checks as one: counts add, the wait is the longest, the
    mismatches kept are bounded again."""
    done = [v for v in parts if v is not None]
    if not done:
        return None
    orders = Tally()
    disputes = Tally()
    more: dict[str, Tally] = {}
    for v in done:
        orders, disputes = orders + v.orders, disputes + v.disputes
        for label, t in v.more:
            more[label] = more.get(label, Tally()) + t
    return Verification(
        done[0].read_api,
        orders.sampled,
        orders.applied,
        orders.missing,
        orders.other_status,
        orders.errors,
        max(v.waited_s for v in done),
        disputes=disputes,
        mismatches=tuple(m for v in done for m in v.mismatches),
        labels=done[0].labels,
        more=tuple(more.items()),
    ).bounded()
