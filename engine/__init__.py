"""webhookload's load engine: UI-agnostic (it never imports Textual).

Data flows one way: scenario → request → result → stats → immutable,
mergeable snapshot deltas (~4 a second) → whoever consumes them. The names
below are the engine's public API: the CLI, the headless printer and the TUI
(``tui/``) use nothing else from the engine, which
``tests/test_histogram_stats.py`` checks.
"""

from __future__ import annotations

from engine.config import BUILTIN, CLIENTS, CONTRACTS, PARSERS, ConfigError, RunConfig, build_config
from engine.domain.durations import format_duration, format_latency
from engine.domain.signing import DEFAULT_SIGNATURE_HEADER, SECRET_ENV
from engine.domain.stages import parse_stages, target_at, total_duration
from engine.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SHARD_LOST,
    EXIT_THRESHOLDS,
    EXIT_UNREACHABLE,
    EXIT_UNVERIFIED,
    EXIT_USAGE,
    WebhookloadError,
)
from engine.metrics.saturation import Saturation, judge
from engine.metrics.stats import ENDPOINTS, ERROR_KINDS, Snapshot
from engine.metrics.window import SnapshotWindow
from engine.outputs.compare import main as compare_main
from engine.outputs.delivery import delivery_lines
from engine.outputs.docparts import endpoint_lines
from engine.outputs.extras import MetricsEndpoint, OutputOptions, RunOutputs, write_report_file
from engine.outputs.jsonfile import check_json_path, write_json
from engine.outputs.summary import (
    detail_lines,
    failure_lines,
    outcome_lines,
    result_json,
    result_lines,
    summary_json,
    summary_lines,
    verification_lines,
)
from engine.outputs.thresholds import (
    Abort,
    AbortGuard,
    Threshold,
    ThresholdResult,
    parse_thresholds,
    threshold_lines,
)
from engine.outputs.verdict import exit_code_for, run_thresholds
from engine.run.builtin_target import BuiltinTargetError
from engine.run.fdlimit import fd_warning, raise_nofile_limit
from engine.run.loop import new_event_loop, run_main
from engine.run.preflight import TargetUnreachable
from engine.run.runner import Phase, Runner, RunResult, SnapshotSink
from engine.run.sinks import CallbackSink, Sink
from engine.shards.coordinator import Coordinator, ShardLost
from engine.shards.plan import workers_warning
from engine.shards.runners import make_runner
from engine.shards.worker import ProcessRunner, WorkerError

__all__ = [
    "BUILTIN",
    "CLIENTS",
    "CONTRACTS",
    "DEFAULT_SIGNATURE_HEADER",
    "ENDPOINTS",
    "ERROR_KINDS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SHARD_LOST",
    "EXIT_THRESHOLDS",
    "EXIT_UNREACHABLE",
    "EXIT_UNVERIFIED",
    "EXIT_USAGE",
    "PARSERS",
    "SECRET_ENV",
    "Abort",
    "AbortGuard",
    "BuiltinTargetError",
    "CallbackSink",
    "ConfigError",
    "Coordinator",
    "MetricsEndpoint",
    "OutputOptions",
    "Phase",
    "ProcessRunner",
    "RunConfig",
    "RunOutputs",
    "RunResult",
    "Runner",
    "Saturation",
    "ShardLost",
    "Sink",
    "Snapshot",
    "SnapshotSink",
    "SnapshotWindow",
    "TargetUnreachable",
    "Threshold",
    "ThresholdResult",
    "WebhookloadError",
    "WorkerError",
    "build_config",
    "check_json_path",
    "compare_main",
    "delivery_lines",
    "detail_lines",
    "endpoint_lines",
    "exit_code_for",
    "failure_lines",
    "fd_warning",
    "format_duration",
    "format_latency",
    "judge",
    "make_runner",
    "new_event_loop",
    "outcome_lines",
    "parse_stages",
    "parse_thresholds",
    "raise_nofile_limit",
    "result_json",
    "result_lines",
    "run_main",
    "run_thresholds",
    "summary_json",
    "summary_lines",
    "target_at",
    "threshold_lines",
    "total_duration",
    "verification_lines",
    "workers_warning",
    "write_json",
    "write_report_file",
]
