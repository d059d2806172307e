"""Every message between a shard and its coordinator, typed, in one module.

A worker process writes them as length-prefixed pickles on its stdout; a Ray
actor yields the same objects. Keeping the protocol here, not as bare tuples
at both ends, means a new message is one class and one branch in the reader,
and both transports of shards speak it identically.

The other way, coordinator to shard, there are two words: *go* (with the
common epoch) and *stop*. A Ray actor gets them as method calls; a worker
process reads them on its stdin, where they are bytes: :func:`go_line`, then
:data:`STOP` or EOF. The start is a handshake: a shard says :class:`ReadyMsg`
once it could send, and waits for go; the coordinator picks the epoch only
when every shard is ready (:mod:`engine.shards.gate`).
"""

from __future__ import annotations

import math
import pickle
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import WebhookloadError
from engine.metrics.stats import Snapshot
from engine.run.runner import Phase, RunResult
from engine.run.sinks import PhaseSink, Sink

_LEN = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class ReadyMsg:
    """The shard is ready to send (started, target checked, transport made) and
    waits for go: sent once, before any delta."""


@dataclass(frozen=True, slots=True)
class DeltaMsg:
    """A snapshot delta, about 4 a second."""

    delta: Snapshot


@dataclass(frozen=True, slots=True)
class PhaseMsg:
    """The run moved to another phase (e.g. ``--verify`` started)."""

    phase: Phase


@dataclass(frozen=True, slots=True)
class ResultMsg:
    """The run's result: the last message of a shard that ran."""

    result: RunResult


@dataclass(frozen=True, slots=True)
class ErrorMsg:
    """The run could not be carried out; the error keeps its message and exit code."""

    error: WebhookloadError


Message = ReadyMsg | DeltaMsg | PhaseMsg | ResultMsg | ErrorMsg

GO = b"g"
"""A go on a worker's stdin: this byte, ``repr(epoch)``, a newline (:func:`go_line`)."""
STOP = b"s"
"""A stop on a worker's stdin; so is any byte but a go's first, and EOF, at any moment."""


def go_line(epoch: float) -> bytes:
    """The go for a worker process: ``b"g1790000000.25\\n"`` (``repr`` keeps every digit)."""
    return GO + repr(epoch).encode() + b"\n"


def parse_epoch(text: bytes) -> float:
    """A go line's epoch (after :data:`GO`, before the newline); ValueError if not a time."""
    epoch = float(text)
    if not math.isfinite(epoch) or epoch <= 0:
        raise ValueError(f"not an epoch: {text!r}")
    return epoch


def deliver(
    msg: Message, sinks: Sequence[Sink], phase_sinks: Sequence[PhaseSink]
) -> RunResult | None:
    """The receiving end of a shard, whatever carried the message (a pipe, Ray):
    deltas and phases to the sinks, the result returned, the error raised."""
    match msg:
        case ReadyMsg():  # the shard's reader answers it (the gate), before this
            pass
        case DeltaMsg(delta):
            for sink in sinks:
                sink.on_snapshot(delta)
        case PhaseMsg(phase):
            for phase_sink in phase_sinks:
                phase_sink.on_phase(phase)
        case ResultMsg(result):
            return result
        case ErrorMsg(error):
            raise error
    return None


def encode(msg: Message) -> bytes:
    """One frame: a 4-byte big-endian length, then the pickled message."""
    data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(data)) + data


class Decoder:
    """Turns a byte stream back into messages, whatever the chunking."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        out: list[Message] = []
        while len(buf) >= _LEN.size:
            (n,) = _LEN.unpack_from(buf)
            if len(buf) < _LEN.size + n:
                break
            msg = pickle.loads(bytes(buf[_LEN.size : _LEN.size + n]))
            del buf[: _LEN.size + n]
            if not isinstance(msg, ReadyMsg | DeltaMsg | PhaseMsg | ResultMsg | ErrorMsg):
                raise ValueError(f"not a shard message: {type(msg).__name__}")
            out.append(msg)
        return out
