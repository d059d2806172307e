"""webhookload's load engine: UI-agnostic (it never imports Textual).

Data flows one way: scenario → request → result → stats → immutable,
mergeable snapshot deltas (~4 a second) → whoever consumes them. The names
below are the engine's public API: the CLI, the headless printer and the TUI
(``tui/``) use nothing else from the engine, which
``tests/test_histogram_stats.py`` checks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.config import (
        BUILTIN,
        CLIENTS,
        CONTRACTS,
        DERIVED,
        PARSERS,
        ConfigError,
        RunConfig,
        build_config,
        header_values,
    )
    from engine.domain.durations import format_duration, format_latency
    from engine.domain.outcomes import flow_counts, has_legacy_names
    from engine.domain.policies import PROVIDER_ANSWERS, PROVIDER_TIMEOUTS
    from engine.domain.sanitize import shown_url
    from engine.domain.shape import INGEST_SHAPE, Shape
    from engine.domain.signing import DEFAULT_SIGNATURE_HEADER, SCHEMES, SECRET_ENV
    from engine.domain.stages import parse_stages, target_at, total_duration
    from engine.errors import (
        EXIT_FAILED,
        EXIT_INTERRUPTED,
        EXIT_OK,
        EXIT_SHARD_LOST,
        EXIT_TERMINATED,
        EXIT_THRESHOLDS,
        EXIT_UNREACHABLE,
        EXIT_UNVERIFIED,
        EXIT_USAGE,
        UsageError,
        WebhookloadError,
    )
    from engine.metrics.saturation import Saturation, judge
    from engine.metrics.stats import ENDPOINTS, ERROR_KINDS, Snapshot
    from engine.metrics.window import SnapshotWindow
    from engine.outputs.compare import main as compare_main
    from engine.outputs.delivery import answers_json, delivery_lines
    from engine.outputs.docparts import endpoint_lines, endpoint_lines_narrow
    from engine.outputs.extras import MetricsEndpoint, OutputOptions, RunOutputs, write_report_file
    from engine.outputs.jsonfile import check_json_path, write_json
    from engine.outputs.provider import provider_lines
    from engine.outputs.settings import changed_settings, delivery_settings_lines, format_count
    from engine.outputs.summary import (
        detail_lines,
        failure_lines,
        flow_lines,
        generator_line,
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
    from engine.outputs.visibility import visibility_lines
    from engine.run.builtin_target import BuiltinTargetError
    from engine.run.fdlimit import fd_warning, raise_nofile_limit
    from engine.run.loop import new_event_loop, run_main
    from engine.run.preflight import TargetUnreachable
    from engine.run.runner import Phase, Runner, RunResult, SnapshotSink
    from engine.run.sinks import CallbackSink, Sink
    from engine.scenario.commands import main as scenarios_main
    from engine.scenario.loader import Scenario, builtin_names, load_scenario, parse_scenario
    from engine.scenario.select import with_scenario
    from engine.shards.coordinator import Coordinator, ShardLost
    from engine.shards.plan import workers_warning
    from engine.shards.runners import make_runner
    from engine.shards.worker import ProcessRunner, WorkerError

_LAZY: dict[str, tuple[str, str]] = {
    "parse_scenario": ("engine.scenario.loader", "parse_scenario"),
    "load_scenario": ("engine.scenario.loader", "load_scenario"),
    "builtin_names": ("engine.scenario.loader", "builtin_names"),
    "Scenario": ("engine.scenario.loader", "Scenario"),
    "DERIVED": ("engine.config", "DERIVED"),
    "UsageError": ("engine.errors", "UsageError"),
    "with_scenario": ("engine.scenario.select", "with_scenario"),
    "header_values": ("engine.config", "header_values"),
    "Abort": ("engine.outputs.thresholds", "Abort"),
    "AbortGuard": ("engine.outputs.thresholds", "AbortGuard"),
    "flow_counts": ("engine.domain.outcomes", "flow_counts"),
    "has_legacy_names": ("engine.domain.outcomes", "has_legacy_names"),
    "INGEST_SHAPE": ("engine.domain.shape", "INGEST_SHAPE"),
    "Shape": ("engine.domain.shape", "Shape"),
    "flow_lines": ("engine.outputs.summary", "flow_lines"),
    "generator_line": ("engine.outputs.summary", "generator_line"),
    "BUILTIN": ("engine.config", "BUILTIN"),
    "BuiltinTargetError": ("engine.run.builtin_target", "BuiltinTargetError"),
    "CLIENTS": ("engine.config", "CLIENTS"),
    "CONTRACTS": ("engine.config", "CONTRACTS"),
    "CallbackSink": ("engine.run.sinks", "CallbackSink"),
    "ConfigError": ("engine.config", "ConfigError"),
    "Coordinator": ("engine.shards.coordinator", "Coordinator"),
    "DEFAULT_SIGNATURE_HEADER": ("engine.domain.signing", "DEFAULT_SIGNATURE_HEADER"),
    "SCHEMES": ("engine.domain.signing", "SCHEMES"),
    "ENDPOINTS": ("engine.metrics.stats", "ENDPOINTS"),
    "ERROR_KINDS": ("engine.metrics.stats", "ERROR_KINDS"),
    "EXIT_FAILED": ("engine.errors", "EXIT_FAILED"),
    "EXIT_INTERRUPTED": ("engine.errors", "EXIT_INTERRUPTED"),
    "EXIT_OK": ("engine.errors", "EXIT_OK"),
    "EXIT_SHARD_LOST": ("engine.errors", "EXIT_SHARD_LOST"),
    "EXIT_TERMINATED": ("engine.errors", "EXIT_TERMINATED"),
    "EXIT_THRESHOLDS": ("engine.errors", "EXIT_THRESHOLDS"),
    "EXIT_UNREACHABLE": ("engine.errors", "EXIT_UNREACHABLE"),
    "EXIT_UNVERIFIED": ("engine.errors", "EXIT_UNVERIFIED"),
    "EXIT_USAGE": ("engine.errors", "EXIT_USAGE"),
    "MetricsEndpoint": ("engine.outputs.extras", "MetricsEndpoint"),
    "OutputOptions": ("engine.outputs.extras", "OutputOptions"),
    "PARSERS": ("engine.config", "PARSERS"),
    "Phase": ("engine.run.runner", "Phase"),
    "ProcessRunner": ("engine.shards.worker", "ProcessRunner"),
    "RunConfig": ("engine.config", "RunConfig"),
    "RunOutputs": ("engine.outputs.extras", "RunOutputs"),
    "RunResult": ("engine.run.runner", "RunResult"),
    "Runner": ("engine.run.runner", "Runner"),
    "SECRET_ENV": ("engine.domain.signing", "SECRET_ENV"),
    "Saturation": ("engine.metrics.saturation", "Saturation"),
    "ShardLost": ("engine.shards.coordinator", "ShardLost"),
    "Sink": ("engine.run.sinks", "Sink"),
    "Snapshot": ("engine.metrics.stats", "Snapshot"),
    "SnapshotSink": ("engine.run.runner", "SnapshotSink"),
    "SnapshotWindow": ("engine.metrics.window", "SnapshotWindow"),
    "TargetUnreachable": ("engine.run.preflight", "TargetUnreachable"),
    "Threshold": ("engine.outputs.thresholds", "Threshold"),
    "ThresholdResult": ("engine.outputs.thresholds", "ThresholdResult"),
    "WebhookloadError": ("engine.errors", "WebhookloadError"),
    "WorkerError": ("engine.shards.worker", "WorkerError"),
    "build_config": ("engine.config", "build_config"),
    "check_json_path": ("engine.outputs.jsonfile", "check_json_path"),
    "compare_main": ("engine.outputs.compare", "main"),
    "scenarios_main": ("engine.scenario.commands", "main"),
    "delivery_lines": ("engine.outputs.delivery", "delivery_lines"),
    "answers_json": ("engine.outputs.delivery", "answers_json"),
    "provider_lines": ("engine.outputs.provider", "provider_lines"),
    "shown_url": ("engine.domain.sanitize", "shown_url"),
    "PROVIDER_ANSWERS": ("engine.domain.policies", "PROVIDER_ANSWERS"),
    "PROVIDER_TIMEOUTS": ("engine.domain.policies", "PROVIDER_TIMEOUTS"),
    "visibility_lines": ("engine.outputs.visibility", "visibility_lines"),
    "detail_lines": ("engine.outputs.summary", "detail_lines"),
    "endpoint_lines": ("engine.outputs.docparts", "endpoint_lines"),
    "endpoint_lines_narrow": ("engine.outputs.docparts", "endpoint_lines_narrow"),
    "exit_code_for": ("engine.outputs.verdict", "exit_code_for"),
    "failure_lines": ("engine.outputs.summary", "failure_lines"),
    "fd_warning": ("engine.run.fdlimit", "fd_warning"),
    "format_duration": ("engine.domain.durations", "format_duration"),
    "format_latency": ("engine.domain.durations", "format_latency"),
    "judge": ("engine.metrics.saturation", "judge"),
    "make_runner": ("engine.shards.runners", "make_runner"),
    "new_event_loop": ("engine.run.loop", "new_event_loop"),
    "outcome_lines": ("engine.outputs.summary", "outcome_lines"),
    "parse_stages": ("engine.domain.stages", "parse_stages"),
    "parse_thresholds": ("engine.outputs.thresholds", "parse_thresholds"),
    "raise_nofile_limit": ("engine.run.fdlimit", "raise_nofile_limit"),
    "result_json": ("engine.outputs.summary", "result_json"),
    "result_lines": ("engine.outputs.summary", "result_lines"),
    "run_main": ("engine.run.loop", "run_main"),
    "run_thresholds": ("engine.outputs.verdict", "run_thresholds"),
    "summary_json": ("engine.outputs.summary", "summary_json"),
    "summary_lines": ("engine.outputs.summary", "summary_lines"),
    "target_at": ("engine.domain.stages", "target_at"),
    "threshold_lines": ("engine.outputs.thresholds", "threshold_lines"),
    "total_duration": ("engine.domain.stages", "total_duration"),
    "verification_lines": ("engine.outputs.summary", "verification_lines"),
    "workers_warning": ("engine.shards.plan", "workers_warning"),
    "write_json": ("engine.outputs.jsonfile", "write_json"),
    "write_report_file": ("engine.outputs.extras", "write_report_file"),
    "delivery_settings_lines": ("engine.outputs.settings", "delivery_settings_lines"),
    "changed_settings": ("engine.outputs.settings", "changed_settings"),
    "format_count": ("engine.outputs.settings", "format_count"),
}
"""Public name -> (module, name there): imported on first use (PEP 562), so that
a shard process, which needs the runner but not the outputs, does not pay for
them at start-up: ``python -c "import engine.shards.worker_main"`` took 0.18-0.21 s
of CPU eagerly and 0.12-0.13 s lazily (prometheus_client, compare and the report
writers are the difference), once per shard and run.
``tests/test_engine_lazy.py`` checks this table against the imports above."""


if not TYPE_CHECKING:  # hidden from mypy, which would take any name then: it reads the imports

    def __getattr__(name: str) -> object:
        try:
            module, attr = _LAZY[name]
        except KeyError:
            raise AttributeError(f"module 'engine' has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})


__all__ = [
    "BUILTIN",
    "CLIENTS",
    "CONTRACTS",
    "DEFAULT_SIGNATURE_HEADER",
    "DERIVED",
    "ENDPOINTS",
    "ERROR_KINDS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SHARD_LOST",
    "EXIT_TERMINATED",
    "EXIT_THRESHOLDS",
    "EXIT_UNREACHABLE",
    "EXIT_UNVERIFIED",
    "EXIT_USAGE",
    "INGEST_SHAPE",
    "PARSERS",
    "PROVIDER_ANSWERS",
    "PROVIDER_TIMEOUTS",
    "SCHEMES",
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
    "Scenario",
    "Shape",
    "ShardLost",
    "Sink",
    "Snapshot",
    "SnapshotSink",
    "SnapshotWindow",
    "TargetUnreachable",
    "Threshold",
    "ThresholdResult",
    "UsageError",
    "WebhookloadError",
    "WorkerError",
    "answers_json",
    "build_config",
    "builtin_names",
    "changed_settings",
    "check_json_path",
    "compare_main",
    "delivery_lines",
    "delivery_settings_lines",
    "detail_lines",
    "endpoint_lines",
    "endpoint_lines_narrow",
    "exit_code_for",
    "failure_lines",
    "fd_warning",
    "flow_counts",
    "flow_lines",
    "format_count",
    "format_duration",
    "format_latency",
    "generator_line",
    "has_legacy_names",
    "header_values",
    "judge",
    "load_scenario",
    "make_runner",
    "new_event_loop",
    "outcome_lines",
    "parse_scenario",
    "parse_stages",
    "parse_thresholds",
    "provider_lines",
    "raise_nofile_limit",
    "result_json",
    "result_lines",
    "run_main",
    "run_thresholds",
    "scenarios_main",
    "shown_url",
    "summary_json",
    "summary_lines",
    "target_at",
    "threshold_lines",
    "total_duration",
    "verification_lines",
    "visibility_lines",
    "with_scenario",
    "workers_warning",
    "write_json",
    "write_report_file",
]
