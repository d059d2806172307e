"""What one runner keeps for ``--verify``: the accepted flow runs it will read back.

Apart from :mod:`engine.run.runner` because it is a concern of its own with a
state of its own: the runner hears that a flow run ended accepted and hands it
on; which sample takes it (a scenario file's own read-back per flow, else
ingest's orders and disputes as ingest's check reads them), the samples'
random streams per (seed, shard), and which check reads them back after the
run are decided here. The runner keeps only the run's shape around it: when to
check, and the cancel scope that lets :meth:`~engine.run.runner.Runner.stop`
cut the wait short.
"""

from __future__ import annotations

from engine.config import RunConfig
from engine.run.verify import (
    DisputeSample,
    OrderSample,
    Verification,
    sample_rng,
    verify_orders,
)
from engine.run.verify_flows import FlowSample, verify_flows
from engine.scenario.compiled import CompiledScenario

__all__ = ["VerifySamples"]


class VerifySamples:
    """A runner's ``--verify`` samples (``config.verify`` of each; none at 0).

    By default it samples ingest's orders and disputes (read back by ingest's
    check, :func:`~engine.run.verify.verify_orders`); after
    :meth:`sample_flows`, a scenario file's flows with a read-back instead,
    one sample per flow (:func:`~engine.run.verify_flows.verify_flows`).
    """

    def __init__(self, config: RunConfig, shard: int) -> None:
        self._config = config
        self._shard = shard
        self.flows: list[FlowSample] = []  # --verify of a file's own read-back
        self._by_flow: dict[str, FlowSample] = {}
        self._orders = OrderSample(config.verify, sample_rng(config.seed, shard))
        self._disputes = DisputeSample(config.verify, sample_rng(config.seed, shard, "disputes"))

    def sample_flows(self, scenario: CompiledScenario, read_api: str) -> None:
        """One ``--verify`` sample per flow with a read-back that expects something."""
        cfg = self._config
        for flow in scenario.flows:
            if flow.read is not None and flow.read.expect:
                rng = sample_rng(cfg.seed, self._shard, f"flow:{flow.name}")
                sample = FlowSample(flow, read_api, OrderSample(cfg.verify, rng))
                self.flows.append(sample)
                self._by_flow[flow.name] = sample

    def offer(
        self,
        flow: str,
        shows: str,
        v: dict[str, object],
        parent: dict[str, object] | None,
        eid: str,
    ) -> None:
        """A flow run ended accepted: sampled by its file's read-back, or ingest's
        orders and disputes as ingest's check reads them (a dispute keyed by its
        order)."""
        if self._by_flow:
            if (sample := self._by_flow.get(flow)) is not None:
                sample.offer(shows, v, parent, eid)
        elif flow == "order":
            self._orders.offer(str(v["order_id"]), shows, eid)
        elif flow == "dispute" and parent is not None:
            self._disputes.offer(str(parent["order_id"]), shows, eid)

    @property
    def sampled(self) -> int:
        """How many flow runs (orders, for ingest's check) there are to read back."""
        return len(self._orders.items) + sum(len(f.sample.items) for f in self.flows)

    @property
    def what(self) -> str:
        """What is read back, for the ``verifying`` phase: the sampled flows' labels."""
        return ", ".join(f.flow.label.lower() for f in self.flows) or "orders"

    async def check(self, read_api: str) -> Verification:
        """Read the samples back until each shows its status or ``--verify-wait`` ends."""
        wait = self._config.verify_wait
        if self.flows:  # a scenario file's own read-back
            return await verify_flows(read_api, self.flows, wait)
        return await verify_orders(
            read_api,
            self._orders.items,
            wait,
            disputes=self._disputes.items,
            event_ids=self._event_id,
        )

    def _event_id(self, kind: str, order_id: str) -> str:
        """The last event the run had accepted for a sampled order or dispute."""
        sample = self._orders if kind == "order" else self._disputes
        return sample.event_ids.get(order_id, "")
