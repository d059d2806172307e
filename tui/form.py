"""The run form: Target, VUs, Duration, Dispute ratio, and the advanced Think,
Workers, Stages and Scenario, validated as you type with the CLI's own
validators and words (and, for Workers, its rules against VUs and Stages).
Scenario offers the built-ins and the ``--scenario`` file (tui/choice.py);
Dispute ratio shows only for a scenario with a ``dispute_ratio`` param.
Every other setting the command line gave (``--sign``, ``--retries``,
``--threshold`` ...) is listed under Start: Start and ``r`` run with them too.

It scrolls (a short terminal still reaches Start) and is disabled during a
run, so it never shows settings other than the ones running.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from engine.config import PARSERS, ConfigError, RunConfig, build_config
from engine.domain.durations import format_duration
from engine.domain.stages import parse_stages, total_duration
from engine.errors import UsageError
from engine.outputs.settings import changed_settings
from tui.choice import RATIO, ScenarioChoices

# (config field, label) in Tab order; Scenario (a Select) follows them.
TEXT_FIELDS = (
    ("target", "Target"),
    ("vus", "VUs"),
    ("duration", "Duration"),
    ("dispute_ratio", "Dispute ratio"),
    ("think", "Think"),
    ("workers", "Workers"),  # --workers: N engine processes, or auto (one per core)
    ("stages", "Stages"),  # e.g. 30s:10,1m:50: from VUs, and they replace Duration
)

IN_FORM = (*(f for f, _ in TEXT_FIELDS), "contract", "scenario", "rate")
"""The settings the form shows (the VUs field names --rate); Start and ``r`` run
the others as the command line gave them, listed under the form."""

PAIR = ("think", "workers")  # one row: short values, and at 80x24 Start stays on screen
CROSS = ("vus", "stages", "workers")  # checked together, as build_config does


def _initial(config: RunConfig, field: str) -> str:
    value = getattr(config, field)
    if field == "vus" and config.rate:
        return open_model_note(config.rate)
    if field in ("duration", "think"):
        return format_duration(value) if value else "0"
    return str(value)


def open_model_note(rate: float) -> str:
    """What the (disabled) VUs field shows in the open model: VUs play no part."""
    return f"open model: --rate {rate:g}/s"


def _stages_sum(text: str) -> str | None:
    """The stages' total as Duration shows it, or None while Stages is invalid."""
    try:
        return format_duration(total_duration(parse_stages(PARSERS["stages"](text))))
    except (ConfigError, ValueError):
        return None


def _problem(field: str, text: str) -> str | None:
    """The field's one-line error (the CLI's words), or None when valid."""
    try:
        PARSERS[field](text)
    except ConfigError as exc:
        return str(exc)
    return None


class FormInput(Input):
    """An Input whose Enter is offered in the footer as "Start": while a field has
    focus the single-letter keys are typed, so the footer must show the keys
    that still act (Enter, Esc, Ctrl+C)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Start")]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit" and isinstance(self.parent, RunForm):
            return True if self.parent.is_valid else None  # None: shown, greyed out
        return True


class RunForm(VerticalScroll, can_focus=False):
    """Emits :class:`RunForm.Submitted` on Enter or Start when every field is valid."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.leave_form", "Leave form", tooltip="so the one-letter keys act"),
        # The app's priority Ctrl+C acts; this one only puts it in the footer
        # while a field has focus (and `q` is typed into it).
        Binding("ctrl+c", "app.quit", "Quit", priority=True),
    ]

    class Submitted(Message):
        pass

    def __init__(
        self, config: RunConfig, given: Collection[str] = (), *, id: str | None = None
    ) -> None:
        """``given``: the settings the command line gave (they win over a
        scenario file's values, as there)."""
        super().__init__(id=id)
        self.choices = ScenarioChoices(config, given)
        self._ratio_default = self.choices.ratio_default(self.choices.initial)
        self._config = config
        self._errors: dict[str, str] = {}
        self._run_active = False

    def compose(self) -> ComposeResult:
        labels = dict(TEXT_FIELDS)
        for field, label in TEXT_FIELDS:
            if field == PAIR[0]:
                yield Static("Advanced", classes="form-section")
                with Horizontal(classes="form-pair"):
                    for half in PAIR:
                        with Vertical():
                            yield Label(labels[half], classes="form-label")
                            yield self._input(half)
                for half in PAIR:  # the errors below, full width
                    yield Static("", id=f"e-{half}", classes="form-error")
            elif field not in PAIR:
                yield Label(label, id=f"l-{field}", classes="form-label")
                yield self._input(field)
                yield Static("", id=f"e-{field}", classes="form-error")
        yield Label("Scenario", classes="form-label")
        yield Select(
            self.choices.options,
            value=self.choices.initial,
            allow_blank=False,
            id="f-scenario",
            compact=True,
        )
        yield Static("", id="e-scenario", classes="form-error")
        yield Button("Start", id="start", variant="success")
        # the command line's own (a file's signature header is the file's, not a flag)
        kept = changed_settings(self.choices.base, IN_FORM)
        if kept:  # below Start: at 80x24 Start stays on screen, this scrolls
            yield Static("Also from the command line", classes="form-section")
            yield Static("\n".join(kept), id="cli-settings", classes="form-kept", markup=False)

    def _input(self, field: str) -> FormInput:
        text = _initial(self._config, field)
        return FormInput(text, id=f"f-{field}", compact=True, select_on_focus=False)

    def on_mount(self) -> None:
        self.border_title = "Run"
        # the open model: VUs play no part, so the field is off and says why
        self.query_one("#f-vus", Input).disabled = bool(self._config.rate)
        for field, _ in TEXT_FIELDS:
            self._validate(field, self.query_one(f"#f-{field}", Input).value)
        self._sync_scenario()
        self._sync_start()

    @property
    def choice(self) -> str:
        """The Scenario select's value: a built-in's name or the file's path."""
        return str(self.query_one("#f-scenario", Select).value)

    def _sync_scenario(self) -> None:
        """Dispute ratio only for a scenario with that param (elsewhere it would
        change nothing), and the choice checked as the command line checks it."""
        default = self.choices.ratio_default(self.choice)
        ratio = self.query_one("#f-dispute_ratio", Input)
        shown = default is not None
        if shown and RATIO not in self.choices.given and default != self._ratio_default:
            try:  # a value the user did not edit follows the scenario's own
                if PARSERS[RATIO](ratio.value) == self._ratio_default:
                    ratio.value = str(default)
            except ConfigError:
                pass
        self._ratio_default = default
        for node in (ratio, self.query_one("#l-dispute_ratio", Label)):
            node.display = shown
        if shown:  # checked again: its problem was cleared while hidden
            self._validate(RATIO, ratio.value)
        else:
            self._show(RATIO, None)
        problem = None
        if not self._errors.keys() - {"scenario"}:
            try:
                self._applied()
            except UsageError as exc:
                problem = str(exc)
        err = self.query_one("#e-scenario", Static)
        err.update(problem or "")
        err.display = problem is not None
        if problem is None:
            self._errors.pop("scenario", None)
        else:
            self._errors["scenario"] = problem

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-scenario":
            was_valid = self.is_valid
            self._sync_scenario()
            self._sync_start()
            if self.is_valid != was_valid:
                self.app.refresh_bindings()

    def _validate(self, field: str, text: str) -> None:
        if field == "stages":
            self._sync_duration(text)
        if field not in CROSS:
            self._show(field, _problem(field, text))
            return
        for f in CROSS:  # a change to one may settle or raise the others' problem
            ok = f == "vus" and (self._ramp_from_zero() or bool(self._config.rate))
            self._show(f, None if ok else _problem(f, self.query_one(f"#f-{f}", Input).value))
        if not self._errors.keys() & set(CROSS):
            self._check_together()

    def _check_together(self) -> None:
        """VUs, Stages and Workers, each valid, by the CLI's own rules across
        them (build_config): e.g. Workers at most VUs. The problem shows on the
        field it names."""
        raw = {f: self.query_one(f"#f-{f}", Input).value for f in CROSS}
        if self._config.rate:  # the open model: VUs play no part
            del raw["vus"]
            raw["rate"] = repr(self._config.rate)
        elif self._ramp_from_zero():  # as --stages without --vus
            del raw["vus"]
        try:
            build_config(raw)
        except ConfigError as exc:
            field = exc.field.replace("-", "_")
            self._show(field if field in CROSS else "workers", str(exc))

    def _sync_duration(self, stages: str) -> None:
        """With Stages the run lasts their sum (as the CLI, which refuses
        --duration with --stages): Duration is disabled and shows that sum, so
        no value on screen is silently ignored."""
        duration = self.query_one("#f-duration", Input)
        duration.disabled = bool(stages.strip())
        total = _stages_sum(stages) if stages.strip() else None
        if total is not None and duration.value != total:
            duration.value = total

    def _ramp_from_zero(self) -> bool:
        """VUs 0 with Stages: the ramp starts from no users, as ``--stages``
        without ``--vus`` does on the command line (the form shows that as 0)."""
        vus = self.query_one("#f-vus", Input).value.strip()
        return vus == "0" and bool(self.query_one("#f-stages", Input).value.strip())

    def _show(self, field: str, problem: str | None) -> None:
        err = self.query_one(f"#e-{field}", Static)
        if problem is None:
            self._errors.pop(field, None)
        else:
            self._errors[field] = problem
        err.update(problem or "")
        err.display = problem is not None
        self.query_one(f"#f-{field}", Input).set_class(problem is not None, "-invalid-field")

    def _sync_start(self) -> None:
        self.query_one("#start", Button).disabled = bool(self._errors) or self._run_active

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("f-"):
            was_valid = self.is_valid
            self._validate(event.input.id[2:], event.value)
            self._sync_scenario()  # e.g. builtin serves not every scenario
            self._sync_start()
            if self.is_valid != was_valid:
                self.app.refresh_bindings()  # Enter's "Start" hint greys out or back

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.is_valid:
            self.post_message(self.Submitted())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            event.stop()
            self.post_message(self.Submitted())

    @property
    def is_valid(self) -> bool:
        return not self._errors

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def set_running(self, running: bool) -> None:
        """Disable the whole form during a run: what it shows is what runs."""
        self._run_active = running
        self.disabled = running
        self._sync_start()

    def config(self) -> RunConfig:
        """The base config with the form's values, running the chosen scenario
        (call only when valid)."""
        return self._applied()

    def _applied(self) -> RunConfig:
        """The form's values applied as the command line applies them; a
        UsageError names a setting it would refuse."""
        values: dict[str, Any] = {}
        for field, _ in TEXT_FIELDS:
            if field == RATIO and self.choices.ratio_default(self.choice) is None:
                continue  # hidden: the scenario has no such param
            if field == "vus" and self._config.rate:
                continue  # the open model: the base config's VUs, untouched
            if field == "vus" and self._ramp_from_zero():
                values[field] = 0
                continue
            values[field] = PARSERS[field](self.query_one(f"#f-{field}", Input).value)
        if values["stages"]:  # the run lasts the stages' sum, as with --stages
            values["duration"] = total_duration(parse_stages(values["stages"]))
        return self.choices.apply(dataclasses.replace(self.choices.base, **values), self.choice)
