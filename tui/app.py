"""The Textual app: the form on the left, the live view or the Summary on the right.

The engine runs in an exclusive async worker; its snapshot deltas land in a
:class:`SnapshotWindow`, and a 4 Hz timer renders the latest state, so the UI
costs the same at 100 or 100,000 requests per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar, Protocol

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import ContentSwitcher, Footer, Header, Input

from engine.builtin_target import BuiltinTargetError
from engine.config import RunConfig
from engine.jsonout import check_json_path, write_json
from engine.loop import new_event_loop
from engine.preflight import TargetUnreachable
from engine.report import result_json
from engine.runner import RunResult, SnapshotSink
from engine.stats import Snapshot
from engine.window import SnapshotWindow
from engine.worker import ProcessRunner, WorkerError
from tui.form import RunForm
from tui.messages import RunFailed, RunFinished
from tui.widgets import (
    CodesPanel,
    CountersPanel,
    LatencyPanel,
    LiveData,
    ProgressPanel,
    RatesPanel,
    SplitPanel,
    SummaryPanel,
)
from tui.widgets.panels import Panel

REFRESH_S = 0.25
WIDE_AT = 110


class RunnerLike(Protocol):
    async def run(self) -> RunResult: ...

    def stop(self) -> None: ...


RunnerFactory = Callable[[RunConfig, SnapshotSink], RunnerLike]


def default_runner(config: RunConfig, sink: SnapshotSink) -> RunnerLike:
    """The engine in its own process: repaints never stall the generator."""
    return ProcessRunner(config, on_snapshot=sink)


class WebhookLoadApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "webhookload"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", id="start"),
        Binding("x", "stop", "Stop", id="stop"),
        Binding("r", "rerun", "Run again", id="rerun"),
        Binding("j", "save_json", "Save JSON", id="save-json"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("escape", "leave_form", "Leave form", show=False),
    ]

    def __init__(
        self,
        config: RunConfig,
        *,
        json_path: str | None = None,
        autostart: bool = False,
        exit_on_finish: bool = False,
        runner_factory: RunnerFactory = default_runner,
    ) -> None:
        super().__init__()
        self.config = config
        self.json_path = json_path
        self.autostart = autostart
        self.exit_on_finish = exit_on_finish
        self.runner_factory = runner_factory
        self.window = SnapshotWindow()
        self.state = "idle"
        self.result: RunResult | None = None
        self.saved_json: str | None = None
        self._runner: RunnerLike | None = None
        self._run_config = config
        self._dirty = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield RunForm(self.config, id="form")
            with ContentSwitcher(initial="live", id="main"):
                with VerticalScroll(id="live"):
                    yield ProgressPanel("Progress", id="progress")
                    yield CountersPanel("Requests", id="counters")
                    yield SplitPanel("Orders / disputes", id="split")
                    yield LatencyPanel("Latency", id="latency")
                    yield RatesPanel(id="rates")
                    yield CodesPanel("Status codes and errors", id="codes")
                with VerticalScroll(id="summary-view"):
                    yield SummaryPanel(id="summary")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "payment-webhook load tester"
        self.query_one("#f-target", Input).focus()
        self.set_interval(REFRESH_S, self.refresh_live)
        self._apply_width(self.size.width)
        if self.autostart:
            self.call_after_refresh(self.action_start)

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        self.query_one("#live").set_class(width >= WIDE_AT, "-wide")

    # --- the live view ---------------------------------------------------------

    def on_snapshot(self, delta: Snapshot) -> None:
        """Called by the engine in this event loop; only stores, never renders."""
        self.window.add(delta)
        if self.state == "starting":
            self.state = "running"
        self._dirty = True

    def refresh_live(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        data = LiveData.from_window(self.window, self._run_config.duration, self.state)
        panels: tuple[type[Panel] | type[RatesPanel], ...] = (
            ProgressPanel,
            CountersPanel,
            SplitPanel,
            LatencyPanel,
            RatesPanel,
            CodesPanel,
        )
        for kind in panels:
            self.query_one(kind).show(data)

    # --- actions -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("start", "rerun"):
            return not self.running
        if action == "stop":
            return self.running
        if action == "save_json":
            return self.result is not None and not self.running
        return True

    def on_run_form_submitted(self, _: RunForm.Submitted) -> None:
        self.action_start()

    def action_start(self) -> None:
        form = self.query_one(RunForm)
        if self.running:
            return
        if not form.is_valid:
            self.notify(
                "; ".join(form.errors.values()), title="Fix the form first", severity="error"
            )
            return
        self._start(form.config())

    def action_rerun(self) -> None:
        if not self.running:
            self._start(self._run_config)

    def _start(self, config: RunConfig) -> None:
        self._run_config = config
        self.window = SnapshotWindow()
        self.result = None
        self.saved_json = None
        self.state = "starting"
        self._dirty = True
        self.query_one(RunForm).set_running(True)
        self.query_one(ContentSwitcher).current = "live"
        self.query_one("#live").focus()
        self.refresh_live()
        self.refresh_bindings()
        self.run_worker(self._run(config), exclusive=True, group="run", exit_on_error=False)

    async def _run(self, config: RunConfig) -> None:
        runner = self._runner = self.runner_factory(config, self.on_snapshot)
        try:
            result = await runner.run()
        except (TargetUnreachable, BuiltinTargetError, WorkerError) as exc:
            self.post_message(RunFailed(str(exc)))
        except Exception as exc:  # surfaced in the UI rather than killing the app
            self.post_message(RunFailed(f"the run failed: {exc!r}"))
        else:
            self.post_message(RunFinished(result))
        finally:
            self._runner = None

    def action_stop(self) -> None:
        if self._runner is not None and self.running:
            self.state = "stopping"
            self._runner.stop()

    def action_leave_form(self) -> None:
        self.query_one("#main").focus()

    def on_run_finished(self, message: RunFinished) -> None:
        self.result = message.result
        self.state = "finished"
        self._dirty = True
        self.refresh_live()
        if self.json_path:
            self._write_json(self.json_path)
        self.query_one(SummaryPanel).show_result(message.result, self.saved_json)
        self.query_one(ContentSwitcher).current = "summary-view"
        self.query_one("#summary-view").focus()  # so r / j / q act at once
        self.query_one(RunForm).set_running(False)
        self.refresh_bindings()
        if self.exit_on_finish:
            self.set_timer(2.5, lambda: self.exit(0))

    def on_run_failed(self, message: RunFailed) -> None:
        self.state = "idle"
        self.query_one(RunForm).set_running(False)
        self.refresh_bindings()
        self.notify(message.text, title="Nothing started", severity="error", timeout=10)

    def action_save_json(self) -> None:
        if self.result is None:
            self.notify("No finished run to save yet.", severity="warning")
            return
        path = self.json_path or time.strftime("webhookload-%Y%m%d-%H%M%S.json")
        if self._write_json(path):
            self.query_one(SummaryPanel).show_result(self.result, self.saved_json)

    def _write_json(self, path: str) -> bool:
        assert self.result is not None
        problem = check_json_path(path)
        if problem:
            self.notify(f"--json must be {problem}, got {path!r}", severity="error")
            return False
        write_json(path, result_json(self.result))
        self.saved_json = path
        self.notify(f"JSON summary saved to {path}")
        return True

    async def action_quit(self) -> None:
        if self._runner is not None:
            self._runner.stop()
        self.exit(0)


def run_app(
    config: RunConfig,
    *,
    json_path: str | None = None,
    autostart: bool = False,
    exit_on_finish: bool = False,
) -> int:
    if json_path is not None and (problem := check_json_path(json_path)):
        import sys

        print(
            f"webhookload-tui: error: --json must be {problem}, got {json_path!r}", file=sys.stderr
        )
        return 2
    app = WebhookLoadApp(
        config, json_path=json_path, autostart=autostart, exit_on_finish=exit_on_finish
    )
    # The engine runs in its own process (engine/worker.py, which picks its own
    # loop); this loop only renders and reads the worker's deltas, on uvloop when
    # installed, as --no-ui does.
    return app.run(loop=new_event_loop()) or 0
