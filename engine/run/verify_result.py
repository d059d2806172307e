"""What ``--verify`` found: counts per flow, and a bounded sample of mismatches.

Apart from the check itself (:mod:`engine.run.verify`) because every output
reads it (summary, JSON, TUI) and shards merge it; it does no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from engine.domain.sanitize import shown_url

MISSING = "(missing)"
"""What was found for a flow run the read API does not show (404, or not listed)."""
UNREADABLE = "(unreadable)"
"""What was found when the read API did not answer, or answered something unreadable."""
MAX_MISMATCHES = 10
"""Mismatches kept for the report (a run may have thousands; the counts have them all)."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One sampled flow run not in the status the run drove it to."""

    kind: str  # its flow's name: what one run is ("order", "dispute", "payment")
    order_id: str  # how it is read back: ingest's order id (a dispute's too), a file's read URL
    expected: str  # the status the run drove it to
    found: str  # the status the read API showed last, or MISSING / UNREADABLE
    event_id: str  # the last event the run had accepted for it (its X-Correlation-ID)
    flow: str  # its flow's label: the key of its tally in Verification.tallies

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
            "flow": self.flow,
            "order_id": self.order_id,
            "expected": self.expected,
            "found": self.found if why == "other_status" else None,
            "why": why,
            "event_id": self.event_id or None,
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """The sampled runs of one flow in one check, by what was found last."""

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
    """What the read API showed for the sampled runs of each flow with a read-back
    when the check ended: one tally per flow, keyed by the flow's label (ingest:
    ``orders``, ``disputes``; a file's: e.g. ``payments``, ``refunds``), in the
    scenario's order."""

    read_api: str
    tallies: tuple[tuple[str, Tally], ...]  # (flow label, its tally), the scenario's order
    waited_s: float  # until every sampled run was settled, or the whole wait
    mismatches: tuple[Mismatch, ...] = ()  # at most MAX_MISMATCHES, moved ones first

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.tallies)

    def tally(self, label: str) -> Tally:
        """The tally of the flow of this label (KeyError: no such flow was checked)."""
        for mine, t in self.tallies:
            if mine == label:
                return t
        raise KeyError(label)

    @property
    def lead(self) -> tuple[str, Tally]:
        """The first flow with a sample (ingest: its orders), else the first: the
        one ``Verified:``'s first line and the JSON's flat fields report, as
        they reported ingest's orders before any other flow was checked."""
        first = self.tallies[0] if self.tallies else ("flow runs", Tally())
        return next((lt for lt in self.tallies if lt[1].sampled), first)

    @property
    def sampled(self) -> int:
        """Sampled runs of every flow."""
        return sum(t.sampled for _, t in self.tallies)

    @property
    def mismatched(self) -> int:
        """Flow runs not in their expected status (all, not only those kept)."""
        return sum(t.sampled - t.applied for _, t in self.tallies)

    @property
    def ok(self) -> bool:
        return self.sampled > 0 and self.mismatched == 0

    def bounded(self) -> Verification:
        """Keep MAX_MISMATCHES, moved ones first, an even share of each flow's
        (the rest filled from whichever have more), in the flows' order."""
        rank = {label: i for i, label in enumerate(self.labels)}
        ranked = sorted(self.mismatches, key=lambda m: m.why != "other_status")
        share = MAX_MISMATCHES // max(1, len(self.tallies))
        kept: list[Mismatch] = []
        rest: list[Mismatch] = []
        for label in dict.fromkeys([*self.labels, *(m.flow for m in ranked)]):
            mine = [m for m in ranked if m.flow == label]
            kept += mine[:share]
            rest += mine[share:]
        rest.sort(key=lambda m: m.why != "other_status")
        kept += rest[: MAX_MISMATCHES - len(kept)]
        kept.sort(key=lambda m: (m.why != "other_status", rank.get(m.flow, len(rank))))
        return dataclasses.replace(self, mismatches=tuple(kept[:MAX_MISMATCHES]))

    def as_json(self) -> dict[str, object]:
        """The lead flow's counts flat (as ingest's orders always were), each
        flow's by its label under ``flows``, and ingest's ``disputes`` where a
        flow is labelled so (the key its files have always had)."""
        doc: dict[str, object] = {
            **self.lead[1].as_json(),
            "read_api": shown_url(self.read_api),
            "waited_s": round(self.waited_s, 3),
            "ok": self.ok,
            "flows": {label: t.as_json() for label, t in self.tallies},
        }
        if "disputes" in self.labels:
            doc["disputes"] = self.tally("disputes").as_json()
        doc["mismatched"] = self.mismatched
        doc["mismatches"] = [m.as_json() for m in self.mismatches]
        return doc

    def describe(self) -> str:
        """The lead flow's line (ingest: what ``Verified:`` said before disputes were checked)."""
        label, lead = self.lead
        head = f"{lead.applied} of {lead.sampled} sampled {label} applied"
        where = shown_url(self.read_api)  # a token in its query: the name only
        if self.ok:
            return f"{head} (after {self.waited_s:.1f}s, read API {where})"
        problems = lead.problems()
        if not problems:
            return f"{head} (read API {where})"
        return f"{head}; after {self.waited_s:.1f}s {problems} (read API {where})"

    def lines(self) -> list[str]:
        """The summary's ``Verified:`` lines: the lead flow, every other flow
        with a sample, then the mismatches kept."""
        out = [f"Verified: {self.describe()}"]
        lead = self.lead[0]
        for label, t in self.tallies:
            if t.sampled and label != lead:
                what = f"sampled {label} in their final status"
                line = f"Verified: {t.applied} of {t.sampled} {what}"
                out.append(f"{line}; {t.problems()}" if t.problems() else line)
        out += [f"  {m.describe()}" for m in self.mismatches]
        if self.mismatched > len(self.mismatches):
            out.append(f"  … and {self.mismatched - len(self.mismatches)} more")
        return out


def merge(parts: Sequence[Verification | None]) -> Verification | None:
    """The shards' checks as one: each flow's counts add (by label), the wait is
    the longest, the mismatches kept are bounded again."""
    done = [v for v in parts if v is not None]
    if not done:
        return None
    tallies: dict[str, Tally] = {}
    for v in done:
        for label, t in v.tallies:
            tallies[label] = tallies.get(label, Tally()) + t
    return Verification(
        done[0].read_api,
        tuple(tallies.items()),
        max(v.waited_s for v in done),
        mismatches=tuple(m for v in done for m in v.mismatches),
    ).bounded()
