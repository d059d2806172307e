"""The Textual app: the form on the left, the live view or the Summary on the right.

The engine runs in an exclusive async worker; its snapshot deltas land in a
:class:`SnapshotWindow`, and a 2 Hz timer renders the latest state, so the UI
costs the same at 100 or 100,000 requests per second.

Quitting (``q``, Ctrl+C, SIGTERM, SIGHUP) mid-run stops the run and keeps its
result; once the terminal is restored, :func:`tui.launch.run_app` prints the same summary
block as ``--no-ui`` and exits with the same code (``engine/errors.py``).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Collection
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Footer, Header, HelpPanel, Input, Select

from engine.config import RunConfig
from engine.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    WebhookloadError,
)
from engine.metrics.stats import Snapshot
from engine.metrics.window import SnapshotWindow
from engine.outputs.extras import OutputOptions
from engine.outputs.thresholds import Abort, AbortGuard, parse_thresholds
from engine.outputs.verdict import exit_code_for
from engine.run.runner import RunResult
from engine.shards.coordinator import ShardLost
from tui.form import RunForm
from tui.hangup import SIGNALS, detach_output, early_signal, terminal_gone
from tui.headless import stage_text
from tui.keys import KEYS
from tui.messages import RunFailed, RunFinished
from tui.results import SessionOutputs
from tui.runners import RunnerFactory, RunnerLike, default_runner
from tui.saving import SavingApp
from tui.widgets import (
    ChartPanel,
    CodesPanel,
    CountersPanel,
    DeliveryPanel,
    EndpointsPanel,
    LatencyPanel,
    LatencySeconds,
    LiveData,
    ProgressPanel,
    RatesPanel,
    SplitPanel,
    SummaryPanel,
    SummaryView,
    ThresholdsPanel,
)
from tui.widgets.panels import Panel

# the runner names stay importable from here (tests and older callers use them)
__all__ = ["RunnerFactory", "RunnerLike", "WebhookLoadApp", "default_runner"]

REFRESH_S = 0.5  # 2 Hz: every frame re-renders the whole live view (Textual crops to
# the union of the dirty rows), and at 4 Hz the UI's CPU cost the engine beside
# it throughput (docs/PERFORMANCE.md, section 3)
WIDE_AT = 120  # two columns from here: the orders line then fits beside Latency
TALL_AT = 30  # below this the form drops its spacing, so Start shows at 80x24
ROOMY_AT = 40  # from here the wide layout's chart column takes every row left
QUIT_GRACE_S = 10.0  # a quit mid-run waits this long for the stopped run's result


class WebhookLoadApp(SavingApp):
    CSS_PATH = "app.tcss"
    TITLE = "webhookload"
    # Textual sets these classes on the screen at every resize (app.tcss). No
    # ClassVar: textual declares them as instance variables, which mypy enforces.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_AT, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL_AT, "-tall"), (ROOMY_AT, "-roomy")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = KEYS  # each with what it does (tui/keys.py)

    def __init__(
        self,
        config: RunConfig,
        *,
        json_path: str | None = None,
        autostart: bool = False,
        exit_on_finish: bool = False,
        runner_factory: RunnerFactory = default_runner,
        handle_signals: bool = False,
        outputs: SessionOutputs | None = None,
        given: Collection[str] = (),
    ) -> None:
        """``given``: the settings the command line gave, which win over a
        scenario file's values when the form applies a scenario (tui/choice.py)."""
        super().__init__()
        self.given = frozenset(given)
        self.outputs = outputs or SessionOutputs(OutputOptions())  # tui/results.py
        self.config = config
        self.json_path = json_path
        self.autostart = autostart
        self.exit_on_finish = exit_on_finish
        self.runner_factory = runner_factory
        self.handle_signals = handle_signals
        self.window = SnapshotWindow()
        self.seconds = LatencySeconds()
        self.guard: AbortGuard | None = None
        self._thresholds = tuple(parse_thresholds(config.thresholds, config.shape))
        self.state = "idle"
        self.result: RunResult | None = None
        self.saved_json: str | None = None
        self.failure: str | None = None
        """Why the last run could not start (printed after exit), else None."""
        self.exit_code = EXIT_OK
        """The process's exit code: that of the last run's outcome, as --no-ui's."""
        self._runner: RunnerLike | None = None
        self._run_config = config
        self._dirty = True
        self._quitting = False
        self._exiting = False
        self._hung_up = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield RunForm(self.config, self.given, id="form")
            with ContentSwitcher(initial="live", id="main"):
                with VerticalScroll(id="live"):
                    yield ProgressPanel("Progress", id="progress")
                    yield CountersPanel("Requests", id="counters")
                    yield SplitPanel("Orders / disputes", id="split")
                    yield LatencyPanel("Latency", id="latency")
                    yield RatesPanel(id="rates")
                    with Vertical(id="chart-col"):
                        yield DeliveryPanel("Delivery", id="delivery")
                        yield ThresholdsPanel("Thresholds", id="thresholds")
                        yield ChartPanel("Latency per second · requests/s", id="chart")
                    yield EndpointsPanel("Endpoints (whole run)", id="endpoints")
                    yield CodesPanel("Status codes and errors", id="codes")
                with SummaryView(id="summary-view"):
                    yield SummaryPanel(id="summary")
        yield Footer()

    def on_load(self) -> None:
        """Before the screen opens: a signal that came already quits at once."""
        if self.handle_signals and (sig := early_signal()) is not None:
            self._interrupted_early(sig)

    def on_mount(self) -> None:
        self._name_scenario(self.config)
        self.query_one("#f-target", Input).focus()
        self.query_one(ThresholdsPanel).configure(len(self.config.thresholds))
        self.query_one(DeliveryPanel).configure(self.config)
        self.query_one(LatencyPanel).configure(self.config)
        self.query_one(SplitPanel).configure(self.config.shape)  # --scenario's flows
        self.set_interval(REFRESH_S, self.refresh_live)
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for sig in SIGNALS:
                loop.add_signal_handler(sig, self._on_signal, sig)
            if (early := early_signal()) is not None:  # came while the screen opened
                self._interrupted_early(early)
                return
        if self.autostart:
            self.call_after_refresh(self.action_start)

    def on_unmount(self) -> None:
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        """SIGTERM/SIGHUP/SIGINT act as `q`: Textual then restores the terminal
        (alternate screen, mouse tracking) instead of the process dying inside it."""
        if sig == signal.SIGHUP and terminal_gone():
            detach_output()
            self._hung_up = True
        self.call_next(self.action_quit)

    def _interrupted_early(self, sig: signal.Signals) -> None:
        """A signal before this app handled them (tui/hangup.py): nothing ran, so
        130 and the line ``webhookload-tui`` prints for one before the screen."""
        self.failure = "interrupted (nothing was measured yet)"
        self.exit_code = EXIT_INTERRUPTED
        if sig == signal.SIGHUP and terminal_gone():
            detach_output()
            self._hung_up = True
        self._exit_now()

    # --- the live view ---------------------------------------------------------

    def on_snapshot(self, delta: Snapshot) -> None:
        """Called by the engine in this event loop; only stores, never renders."""
        self.window.add(delta)
        self.seconds.add(delta)
        self.outputs.on_snapshot(delta)
        if self.guard is not None:
            self.guard.on_snapshot(delta)
        if self.state == "starting":
            self.state = "running"
        self._dirty = True

    def refresh_live(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        state = "not started" if self.state == "idle" and self.failure else self.state
        cfg = self._run_config
        stage = stage_text(cfg, self.window.now) if cfg.stages else ""
        data = LiveData.from_window(
            self.window, cfg.duration, state, self.seconds, self._thresholds, stage, cfg.shape
        )
        for panel in self.query("#live .panel").results():
            if isinstance(panel, Panel | RatesPanel):
                panel.show(data)

    # --- actions -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return not self.running
        if action == "rerun":  # offered once a run has finished
            return self.result is not None and not self.running
        if action == "stop":
            return self.running
        if action in ("save_json", "save_report"):
            return self.result is not None and not self.running
        return True

    def on_select_changed(self, _: Select.Changed) -> None:
        """Before any run, the split panel and the header name the chosen
        scenario; after one they keep naming what they show (the last run's)."""
        form = self.query_one(RunForm)
        if self.state == "idle" and self.result is None and form.is_valid:
            config = form.config()
            self.query_one(SplitPanel).configure(config.shape)
            self._name_scenario(config)

    def _name_scenario(self, config: RunConfig) -> None:
        """The header names the scenario that runs (or would, before any run):
        webhookload drives any receiver's webhooks, not only payments'."""
        self.sub_title = f"scenario {config.shape.scenario}"

    def on_run_form_submitted(self, _: RunForm.Submitted) -> None:
        self.action_start()

    def action_start(self) -> None:
        form = self.query_one(RunForm)
        if self.running or self._exiting:  # --autostart's start may come after a quit
            return
        if not form.is_valid:
            self.notify(
                "; ".join(form.errors.values()), title="Fix the form first", severity="error"
            )
            return
        self._start(form.config())

    def action_rerun(self) -> None:
        """The form's settings again: after a run the (disabled) form still holds
        the last run's, and an edited form is checked exactly as for `s`."""
        if self.result is not None:
            self.action_start()

    @property
    def abort(self) -> Abort | None:
        """Why --abort-on-fail stopped the last run, if it did (see the verdict)."""
        return self.guard.abort if self.guard is not None else None

    def _start(self, config: RunConfig) -> None:
        self._run_config = config
        self.window = SnapshotWindow()
        self.seconds = LatencySeconds()
        self._thresholds = tuple(parse_thresholds(config.thresholds, config.shape))
        self.guard = None
        if config.abort_on_fail:
            self.guard = AbortGuard(self._thresholds, self._stop_for_thresholds)
        self.query_one(ThresholdsPanel).configure(len(config.thresholds))
        self.query_one(DeliveryPanel).configure(config)
        self.query_one(LatencyPanel).configure(config)
        self.query_one(SplitPanel).configure(config.shape)
        self._name_scenario(config)
        for problem in self.outputs.start(config):
            self.notify(problem, severity="error", timeout=10)
        self.result = None
        self.saved_json = None
        self.failure = None
        self.state = "starting"
        self._dirty = True
        self.query_one(ContentSwitcher).current = "live"
        self.query_one("#live").focus()
        self.query_one(RunForm).set_running(True)
        self.refresh_live()
        self.refresh_bindings()
        runner = self._runner = self.runner_factory(config, self.on_snapshot)
        self.run_worker(self._run(runner), exclusive=True, group="run", exit_on_error=False)

    async def _run(self, runner: RunnerLike) -> None:
        try:
            result = await runner.run()
        except ShardLost as exc:
            if exc.partial is None:
                self.post_message(RunFailed(str(exc), exc.exit_code))
            else:  # what was measured until the shard died, and why the run ended
                self.post_message(RunFinished(exc.partial, str(exc), exc.exit_code))
        except WebhookloadError as exc:
            self.post_message(RunFailed(str(exc), exc.exit_code))
        except Exception as exc:  # surfaced in the UI rather than killing the app
            self.post_message(RunFailed(f"the run failed: {exc!r}", EXIT_FAILED))
        else:
            self.post_message(RunFinished(result))
        finally:
            self._runner = None

    def action_stop(self) -> None:
        if self._runner is not None and self.running:
            self.state = "stopping"
            self._runner.stop()

    def _stop_for_thresholds(self) -> None:
        """--abort-on-fail: the guard recorded why; stop as `x` does."""
        self.action_stop()
        self.notify(self.abort.describe() if self.abort else "", severity="error", timeout=10)

    def action_toggle_help(self) -> None:
        """`?`/F1: Textual's keys panel (the palette's "Keys"), shown or hidden."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_leave_form(self) -> None:
        """Focus the view on the right (it scrolls), so single-letter keys act."""
        self.query_one(f"#{self.query_one(ContentSwitcher).current}").focus()

    def on_run_finished(self, message: RunFinished) -> None:
        self.result = message.result
        self.exit_code = exit_code_for(message.result, self.abort)
        if message.lost is not None:
            self.failure, self.exit_code = message.lost, message.code
            self.notify(message.lost, title="A shard died", severity="error", timeout=10)
        self.state = "finished"
        self._dirty = True
        self.refresh_live()
        if self.json_path:
            self._write_json(self.json_path)
        for line in self.outputs.finish(message.result, self.abort):
            self.notify(line)
        self.query_one(SummaryPanel).show_result(message.result, self.saved_json, self.abort)
        self.query_one(ContentSwitcher).current = "summary-view"
        self.query_one("#summary-view").focus()  # so r / j / q act at once
        self.query_one(RunForm).set_running(False)
        self.refresh_bindings()
        if self._quitting:
            self._exit_now()
        elif self.exit_on_finish:
            self.set_timer(2.5, self._exit_now)

    def on_run_failed(self, message: RunFailed) -> None:
        self.state = "idle"
        self.outputs.failed()
        self.failure = message.text
        self.exit_code = message.code
        self._dirty = True
        self.refresh_live()
        self.query_one(RunForm).set_running(False)
        self.refresh_bindings()
        if self._quitting or self.exit_on_finish:  # a script waits on no popup
            self._exit_now()
            return
        self.notify(message.text, title="Nothing started", severity="error", timeout=10)

    async def action_quit(self) -> None:
        """Mid-run: stop the run and quit once its result is in (summary and
        JSON kept); a second quit, or a run that never ends, quits at once."""
        if self._runner is None or not self.running or self._quitting:
            self._exit_now()
            return
        self._quitting = True
        self.action_stop()
        self.set_timer(QUIT_GRACE_S, self._exit_now)

    def _exit_now(self) -> None:
        self._exiting = True
        if self.running:  # the run's result never came: what ran is lost
            self.exit_code = EXIT_INTERRUPTED
            self.failure = "quit before the stopped run's summary arrived"
        elif self.autostart and self.result is None and self.failure is None:
            # --autostart asked for a run: quitting before it began interrupted it
            self.exit_code = EXIT_INTERRUPTED
            self.failure = "interrupted before the run started"
        if self._hung_up:  # no terminal to restore or print to (tui/hangup.py)
            os._exit(self.exit_code)
        self.exit(self.exit_code)
