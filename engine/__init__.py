"""webhookload's load engine: UI-agnostic (it never imports Textual).

Data flows one way: scenario → request → result → stats → immutable,
mergeable snapshot deltas (~4 a second) → whoever consumes them. The names
below are the engine's public API; the CLI printer and the TUI use only these.
"""

from __future__ import annotations

from engine.config import ConfigError, RunConfig, build_config
from engine.preflight import TargetUnreachable
from engine.report import summary_json, summary_lines
from engine.runner import Runner, RunResult
from engine.saturation import Saturation, judge
from engine.stats import Snapshot
from engine.window import SnapshotWindow
from engine.worker import ProcessRunner, WorkerError

__all__ = [
    "ConfigError",
    "ProcessRunner",
    "RunConfig",
    "RunResult",
    "Runner",
    "Saturation",
    "Snapshot",
    "SnapshotWindow",
    "TargetUnreachable",
    "WorkerError",
    "build_config",
    "judge",
    "summary_json",
    "summary_lines",
]
