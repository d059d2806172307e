"""A bounded sample of failed requests, to show what came back.

Counting a run's 63,680 errors as ``400`` says that something is wrong, not
what: the sample keeps a few failures with the first bytes of the response
body (or the transport's error text), in bounded memory however many fail.

The sample is the first :data:`SAMPLE_MAX` of a *pool*: the first
:data:`SAMPLE_FIRST` distinct failures of the run, plus the first failure of
each of the first :data:`SAMPLE_MAX` kinds (endpoint, and status or error
kind), identical failures counted once. "First" is by :attr:`SampleFailure.at`,
a place in the run that shards share (the start of the delta it fell in, on
the common time base, then the shard, then its order in the shard). The pool,
unlike the capped sample, is what merges: ``pool(a ∪ b)`` is a function of
the union alone, so deltas and shards merge in any order and grouping
(:func:`merge_failures` is associative and commutative) and still give the
run's sample. Capping while merging would not: a failure that is 17th in one
shard can be 6th once another shard's earlier failures displace the first
few. The pool holds at most ``SAMPLE_FIRST + SAMPLE_MAX`` failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.domain.sanitize import PLAIN, Cleaner

SAMPLE_FIRST = 5
"""Distinct failures kept whatever they are: the first few of the run."""
SAMPLE_MAX = 16
"""At most this many shown: after the first few, only the first of each kind."""
DETAIL_BYTES = 200

Place = tuple[int, int, int]
"""Where in the run a failure happened: (delta start in µs on the common time
base, shard, n-th failure of that shard)."""


@dataclass(frozen=True, slots=True)
class SampleFailure:
    """One failed request, kept to show what came back: the response's status and
    the first bytes of its body, or the transport's error kind and text; that
    ``detail`` is cleaned (controls escaped, secrets hidden) when it is kept."""

    endpoint: str
    kind: str  # an ERROR_KINDS entry
    status: int | None  # None: no HTTP response
    detail: str
    at: Place = (0, 0, 0)
    # the event id (ingest also sends it as X-Correlation-ID; a file names its
    # correlation_header, if any): find it in the service's logs.
    # Not part of ``content``: failures alike but for their id are one.
    correlation_id: str = ""

    @property
    def key(self) -> tuple[str, int | str]:
        """What makes a failure of another kind: endpoint, and status or error kind."""
        return (self.endpoint, self.kind if self.status is None else self.status)

    @property
    def content(self) -> tuple[str, str, int, str]:
        """What it showed, without where it happened: identical failures are one."""
        return (self.endpoint, self.kind, -1 if self.status is None else self.status, self.detail)

    def describe(self) -> str:
        what = f"{self.endpoint} {self.kind if self.status is None else self.status}"
        if self.correlation_id:
            what += f" [event {self.correlation_id}]"
        return f"{what}: {self.detail}" if self.detail else what

    def as_json(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "status": self.status,
            "kind": self.kind,
            "detail": self.detail,
            "correlation_id": self.correlation_id or None,
        }


class FailureSampler:
    """The pool's rule as failures arrive in order (one shard's requests): a
    failure joins unless it repeats one already kept, and it is among the first
    :data:`SAMPLE_FIRST` or the first of a kind while fewer than
    :data:`SAMPLE_MAX` kinds are known. In arrival order that is exactly
    membership of the run's pool, so nothing kept is ever displaced and each
    delta carries only what it added. Bounded memory however many fail."""

    __slots__ = ("_cleaner", "_contents", "_keys", "_n", "kept")

    def __init__(self, cleaner: Cleaner = PLAIN) -> None:
        self._cleaner = cleaner
        self.kept: list[SampleFailure] = []
        self._keys: set[tuple[str, int | str]] = set()
        self._contents: set[tuple[str, str, int, str]] = set()
        self._n = 0  # failures offered: the last part of their place

    def wants(self, key: tuple[str, int | str]) -> bool:
        """Cheap first test, before the detail is decoded."""
        return len(self.kept) < SAMPLE_FIRST or (
            key not in self._keys and len(self._keys) < SAMPLE_MAX
        )

    def offer(
        self,
        endpoint: str,
        kind: str,
        status: int | None,
        detail: bytes | str,
        *,
        since_us: int = 0,
        shard: int = 0,
        correlation_id: str = "",
    ) -> None:
        """One failure, in arrival order; ``since_us`` and ``shard`` place it in the run."""
        self._n += 1
        key = (endpoint, kind if status is None else status)
        if not self.wants(key):
            return
        # the target's text (a body, or an error quoting what it sent): made safe
        # here, once, before any output sees it (engine/domain/sanitize.py)
        detail = self._cleaner.clean(detail[:DETAIL_BYTES], DETAIL_BYTES)
        failure = SampleFailure(
            endpoint,
            kind,
            status,
            detail,
            (since_us, shard, self._n),
            correlation_id,
        )
        if failure.content in self._contents:
            return
        self._contents.add(failure.content)
        self._keys.add(key)
        self.kept.append(failure)


def _order(f: SampleFailure) -> tuple[Place, tuple[str, str, int, str]]:
    return (f.at, f.content)


def failure_pool(failures: list[SampleFailure]) -> tuple[SampleFailure, ...]:
    """The pool of ``failures`` (see the module docstring), first first."""
    first: dict[tuple[str, str, int, str], SampleFailure] = {}
    for f in sorted(failures, key=_order):
        first.setdefault(f.content, f)  # identical failures: the earliest stands for all
    keys: set[tuple[str, int | str]] = set()
    pool = []
    for i, f in enumerate(first.values()):
        new_key = f.key not in keys and len(keys) < SAMPLE_MAX
        if new_key:
            keys.add(f.key)
        if i < SAMPLE_FIRST or new_key:
            pool.append(f)
    return tuple(pool)


def merge_failures(
    a: tuple[SampleFailure, ...], b: tuple[SampleFailure, ...]
) -> tuple[SampleFailure, ...]:
    """The pool of two pools: associative and commutative, so deltas, windows
    and shards merge in any order to the run's pool."""
    if not a and not b:
        return ()
    return failure_pool([*a, *b])
