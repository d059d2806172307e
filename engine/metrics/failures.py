"""A bounded sample of failed requests, to show what came back.

Counting a run's 63,680 errors as ``400`` says that something is wrong, not
what: the sample keeps a few failures with the first bytes of the response
body (or the transport's error text), in bounded memory however many fail.
The runner's :class:`~engine.metrics.stats.Stats` samples as requests fail, each
snapshot delta carries the failures kept since the last one, and
:func:`keep_failures` merges deltas (or shards) under the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_FIRST = 5
"""Distinct failures kept whatever they are: the first few of the run."""
SAMPLE_MAX = 16
"""At most this many in all: after the first few, only the first of each kind."""
DETAIL_BYTES = 200


@dataclass(frozen=True, slots=True)
class SampleFailure:
    """One failed request, kept to show what came back: the response's status and
    the first bytes of its body, or the transport's error kind and text."""

    endpoint: str
    kind: str  # an ERROR_KINDS entry
    status: int | None  # None: no HTTP response
    detail: str

    @property
    def key(self) -> tuple[str, int | str]:
        """What makes a failure of another kind: endpoint, and status or error kind."""
        return (self.endpoint, self.kind if self.status is None else self.status)

    def describe(self) -> str:
        what = f"{self.endpoint} {self.kind if self.status is None else self.status}"
        return f"{what}: {self.detail}" if self.detail else what

    def as_json(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "status": self.status,
            "kind": self.kind,
            "detail": self.detail,
        }


class FailureSampler:
    """The sampling rule, in one place: a failure is kept unless it repeats one
    already kept; after the first :data:`SAMPLE_FIRST`, only if its
    :attr:`~SampleFailure.key` is new; and never past :data:`SAMPLE_MAX`.
    Bounded memory however many requests fail."""

    __slots__ = ("_keys", "_seen", "kept")

    def __init__(self, kept: tuple[SampleFailure, ...] = ()) -> None:
        self.kept: list[SampleFailure] = []
        self._keys: set[tuple[str, int | str]] = set()
        self._seen: set[SampleFailure] = set()
        for f in kept:
            self.offer(f.endpoint, f.kind, f.status, f.detail)

    def wants(self, key: tuple[str, int | str]) -> bool:
        """Cheap first test, before the detail is decoded."""
        n = len(self.kept)
        return n < SAMPLE_FIRST or (n < SAMPLE_MAX and key not in self._keys)

    def offer(self, endpoint: str, kind: str, status: int | None, detail: bytes | str) -> None:
        key = (endpoint, kind if status is None else status)
        if not self.wants(key):
            return
        if isinstance(detail, bytes):
            detail = detail[:DETAIL_BYTES].decode("utf-8", errors="replace")
        failure = SampleFailure(endpoint, kind, status, detail[:DETAIL_BYTES])
        if failure in self._seen:
            return
        self._seen.add(failure)
        self._keys.add(key)
        self.kept.append(failure)


def keep_failures(
    kept: tuple[SampleFailure, ...], more: tuple[SampleFailure, ...]
) -> tuple[SampleFailure, ...]:
    """``kept`` plus those of ``more`` the rule keeps (:class:`FailureSampler`):
    merging deltas in order gives the run's sample."""
    if not more or len(kept) >= SAMPLE_MAX:
        return kept
    sampler = FailureSampler(kept)
    for f in more:
        sampler.offer(f.endpoint, f.kind, f.status, f.detail)
    return tuple(sampler.kept)
