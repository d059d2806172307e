"""``--backend ray``: each shard a Ray actor running the same engine.

An async actor runs a :class:`~engine.run.runner.Runner` on the actor's event
loop; its ``run`` method is a streaming generator (Ray's documented
generator-method API: each ``yield`` reaches the caller at once) that yields the
messages of :mod:`engine.shards.protocol`, as a worker process writes them on
its pipe (through Ray Client, ``ray://``, which has no streaming generators,
the driver pulls them one by one instead). The driver side, :class:`RayShard`,
has the shard interface of :mod:`engine.shards.coordinator`, so the merge path
is the coordinator's, the same as for processes. The start is the processes' handshake
(:mod:`engine.shards.gate`): an actor yields a ``ReadyMsg`` once it could
send and waits; when every actor is ready the driver calls each one's ``go``
with the common epoch. Actors are placed with the ``SPREAD`` strategy, one core
each, so the shards of a cluster land on as many nodes as possible.

Ray is an optional extra (``pip install 'webhookload[distributed]'``): this
module is imported only for ``--backend ray``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ray
from ray.util.client import ray as client_ray

from engine.config import RunConfig
from engine.domain.stages import LoadShare
from engine.errors import WebhookloadError
from engine.run.fdlimit import raise_nofile_limit
from engine.run.runner import Runner, RunResult
from engine.run.sinks import PhaseSink, Sink
from engine.shards.coordinator import Coordinator
from engine.shards.gate import StartGate
from engine.shards.protocol import ErrorMsg, Message, ReadyMsg, ResultMsg, deliver
from engine.shards.worker import WorkerError, _Messages, share_from_json, share_json

RAY_GO_MARGIN_S = 1.0
"""The common start lies this far past the moment every actor is ready: the go
is a remote call per actor, across a cluster's network and raylets (ms on one
machine, tens of ms and more on a busy cluster)."""
RAY_READY_TIMEOUT_S = 300.0
"""How long the driver waits for every actor to be ready before it gives one up
as lost: an actor may wait for a free CPU, a node to join or a worker process
to start and import the engine, which on a cluster takes far longer than a
local process (minutes under an autoscaler)."""
OBJECT_STORE_BYTES = 100 * 1024 * 1024
"""A local Ray instance's object store: deltas are small, and CI machines too."""
RAY_LOGGING_LEVEL = logging.ERROR
"""The driver's ``ray`` logger: Ray's INFO and WARNING lines ("Started a local Ray
instance", token authentication) are not ours to print, and would run through
the TUI's screen; an actor that dies reaches the user as a RayShardError."""


NODE_ID_CHARS = 8
"""A Ray node id's first hex digits in a shard's ``where``: enough to tell a
cluster's nodes apart (as ``ray list nodes`` ids are read), short in a line."""
JOIN_HINT = (
    "is the cluster up, and does this machine reach it? (a cluster started by "
    "`ray start` with token authentication, Ray's default since 2.59, needs "
    "RAY_AUTH_MODE=token here too)"
)
"""After a failed join: Ray says only that it failed to connect, after a while."""


class RayJoinError(WebhookloadError):
    """The driver could not join the cluster at ``--ray-address`` (exit 1: no
    shard ran); ``str()`` is one line."""


JOIN_PROBE_S = 5.0
"""How long the TCP probe of a head's address may take: Ray's own ``ray.init``
against an address where nothing listens retried "Failed to connect to GCS"
for minutes, deaf to Ctrl+C (it blocks in C++); a head answers in ms."""


def head_address(address: str) -> tuple[str, int] | None:
    """The ``(host, port)`` that ``ray.init(address)`` will connect to, or None
    when Ray finds it itself (``auto`` with no ``RAY_ADDRESS``: the cluster
    this machine belongs to)."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "").strip()
    address = address.removeprefix("ray://")
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def probe_head(address: str, limit_s: float = JOIN_PROBE_S) -> None:
    """Open (and close) one TCP connection to the head, or raise RayJoinError."""
    head = head_address(address)
    if head is None:
        return
    where = address if address != "auto" else f"auto (RAY_ADDRESS={os.environ['RAY_ADDRESS']})"
    try:
        socket.create_connection(head, timeout=limit_s).close()
    except TimeoutError:
        reason = f"no answer within {limit_s:g}s"
    except OSError as exc:
        reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    else:
        return
    raise RayJoinError(
        f"--ray-address {where}: nothing answers there ({reason}); {JOIN_HINT}"
    ) from None


class RayShardError(WorkerError):
    """A Ray actor died or failed; ``str()`` says how. A :class:`WorkerError`, so
    the coordinator reports it as a lost shard (exit 6, with what the others
    measured), as it does a dead worker process."""


class _ShardActor:
    """One shard on a Ray worker: the engine on the actor's event loop."""

    def __init__(self) -> None:
        self._runner: Runner | None = None
        self._stop_requested = False
        self._go: asyncio.Future[float] | None = None
        self._pulled: AsyncGenerator[Message, None] | None = None

    async def where(self) -> str:
        """Host, Ray node and pid: on one machine (a test cluster, several raylets)
        the hostname alone does not tell the nodes apart; the node id does."""
        node = ray.get_runtime_context().get_node_id()[:NODE_ID_CHARS]
        return f"Ray actor on {socket.gethostname()}, node {node}, pid {os.getpid()}"

    async def run(
        self, config: dict[str, Any], shard: int, load_share: str = "null"
    ) -> AsyncGenerator[Message, None]:
        """Run the shard, yielding ready, each delta and phase, then the result or error."""
        raise_nofile_limit()  # a Ray worker inherits the raylet's limit, not the driver's
        queue: asyncio.Queue[Message] = asyncio.Queue()
        go: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._go = go

        async def ready() -> float:
            queue.put_nowait(ReadyMsg())
            return await go

        runner = Runner(
            RunConfig(**config),
            sinks=[_Messages(queue.put_nowait)],
            shard=shard,
            load_share=share_from_json(load_share),
            ready=ready,
        )
        self._runner = runner
        if self._stop_requested:
            runner.stop()

        async def main() -> None:
            try:
                queue.put_nowait(ResultMsg(await runner.run()))
            except WebhookloadError as exc:
                queue.put_nowait(ErrorMsg(exc))
            except Exception as exc:  # crossed to the driver as a shard failure
                queue.put_nowait(ErrorMsg(RayShardError(f"the shard failed: {exc!r}")))

        task = asyncio.ensure_future(main())
        try:
            while True:
                msg = await queue.get()
                yield msg
                if isinstance(msg, ResultMsg | ErrorMsg):
                    return
        finally:
            runner.stop()
            await asyncio.wait([task], timeout=5)

    async def start(self, config: dict[str, Any], shard: int, load_share: str = "null") -> None:
        """Through Ray Client (``ray://``), which has no streaming generators: the
        same :meth:`run`, whose messages the driver then takes with :meth:`pull`."""
        self._pulled = self.run(config, shard, load_share)

    async def pull(self) -> Message:
        """The next message of :meth:`start`'s run; after its result or error,
        the run is closed (its ``finally`` runs, as when a stream ends)."""
        assert self._pulled is not None, "start() first"
        msg = await anext(self._pulled)
        if isinstance(msg, ResultMsg | ErrorMsg):
            await self._pulled.aclose()
        return msg

    async def go(self, epoch: float) -> None:
        """Every shard is ready: start the load at ``epoch`` (a wall time)."""
        if self._go is not None and not self._go.done():
            self._go.set_result(epoch)

    async def stop(self) -> None:
        """Async, so it runs on the actor's event loop, where the runner runs."""
        self._stop_requested = True
        if self._runner is not None:
            self._runner.stop()


_RemoteActor: Any = None


def _remote_actor() -> Any:
    """The actor class, made remote once (after ``ray.init``, as Ray allows either way)."""
    global _RemoteActor
    if _RemoteActor is None:
        _RemoteActor = ray.remote(num_cpus=1, max_restarts=0)(_ShardActor)
    return _RemoteActor


class RayShard:
    """The driver's side of one actor: the coordinator's shard interface."""

    def __init__(
        self, config: RunConfig, shard: int, gate: StartGate, sinks: Sequence[Sink]
    ) -> None:
        self.config = config
        self.shard = shard
        self.gate = gate
        self._sinks = tuple(sinks)
        self._phase_sinks = tuple(s for s in sinks if isinstance(s, PhaseSink))
        self._where = f"Ray actor {shard}"
        self.load_share: LoadShare | None = None  # the coordinator sets it (engine.domain.stages)
        self._actor = _remote_actor().options(scheduling_strategy="SPREAD").remote()

    @property
    def where(self) -> str:
        return self._where

    def stop(self) -> None:
        self._actor.stop.remote()

    async def run(self) -> RunResult:
        try:
            self._where = await self._actor.where.remote()
            args = (dataclasses.asdict(self.config), self.shard, share_json(self.load_share))
            async for msg in self._messages(args):
                if isinstance(msg, ReadyMsg):  # no other message comes before the go
                    epoch = await self.gate.ready(self.shard)
                    if epoch is not None:  # else the start was called off: we are stopped
                        await self._actor.go.remote(epoch)
                    continue
                result = deliver(msg, self._sinks, self._phase_sinks)
                if result is not None:
                    return result
        except ray.exceptions.RayError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise RayShardError(f"the Ray actor failed ({type(exc).__name__}: {first})") from None
        finally:
            ray.kill(self._actor, no_restart=True)
        raise RayShardError("the Ray actor ended without a result")

    async def _messages(self, args: tuple[Any, ...]) -> AsyncIterator[Message]:
        """The actor's messages: streamed, or pulled one by one through Ray Client
        (``ray://``: its object refs are not streaming generators)."""
        if not client_ray.is_connected():
            async for ref in self._actor.run.remote(*args):
                yield await ref
            return
        await self._actor.start.remote(*args)
        while True:
            msg = await self._actor.pull.remote()
            yield msg
            if isinstance(msg, ResultMsg | ErrorMsg):
                return


@contextmanager
def ray_session(address: str, workers: int) -> Iterator[None]:
    """Connect to ``address`` (``auto``, ``ray://host:10001``), or start a local
    instance when it is empty, capped to fit a small machine; disconnect after."""
    if ray.is_initialized():  # the caller's own session (a notebook, a test)
        yield
        return
    if address:
        probe_head(address)  # before ray.init, which retries for minutes (JOIN_PROBE_S)
        try:
            ray.init(address=address, log_to_driver=False, logging_level=RAY_LOGGING_LEVEL)
        except ConnectionError as exc:  # one line, not Ray's traceback
            raise RayJoinError(f"--ray-address {address}: {exc}; {JOIN_HINT}") from None
    else:
        ray.init(
            # "local": a new instance even when RAY_ADDRESS is set or a `ray start`
            # cluster runs on this machine (ray.init() would join it, and refuse
            # num_cpus there); --ray-address auto is the way to join one.
            address="local",
            num_cpus=max(workers, os.cpu_count() or 1),
            object_store_memory=OBJECT_STORE_BYTES,
            include_dashboard=False,
            log_to_driver=False,  # the actors' own output stays in Ray's log files
            logging_level=RAY_LOGGING_LEVEL,
        )
    try:
        yield
    finally:
        ray.shutdown()


class RayCoordinator(Coordinator):
    """The coordinator with Ray actors for shards, inside a Ray session."""

    def __init__(self, config: RunConfig, *, sinks: Sequence[Sink] = ()) -> None:
        super().__init__(
            config,
            sinks=sinks,
            shard_factory=RayShard,
            go_margin=RAY_GO_MARGIN_S,
            ready_timeout=RAY_READY_TIMEOUT_S,
        )

    async def run(self) -> RunResult:
        with ray_session(self.config.ray_address, self.config.workers):
            return await super().run()
