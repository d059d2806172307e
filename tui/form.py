"""The run form: Target, VUs, Duration, Dispute ratio, and the advanced Think,
Workers, Stages and Contract, validated as you type with the CLI's own
validators and words (and, for Workers, its rules against VUs and Stages).
Every other setting the command line gave (``--sign``, ``--retries``,
``--threshold`` ...) is listed under Start: Start and ``r`` run with them too.

It scrolls (a short terminal still reaches Start) and is disabled during a
run, so it never shows settings other than the ones running.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from engine.config import CONTRACTS, PARSERS, ConfigError, RunConfig, build_config
from engine.domain.durations import format_duration
from engine.domain.stages import parse_stages, total_duration
from engine.outputs.settings import changed_settings

# (config field, label) in Tab order; Contract (a Select) follows them.
TEXT_FIELDS = (
    ("target", "Target"),
    ("vus", "VUs"),
    ("duration", "Duration"),
    ("dispute_ratio", "Dispute ratio"),
    ("think", "Think"),
    ("workers", "Workers"),  # --workers: N engine processes, or auto (one per core)
    ("stages", "Stages"),  # e.g. 30s:10,1m:50: from VUs, and they replace Duration
)

IN_FORM = (*(f for f, _ in TEXT_FIELDS), "contract", "rate")
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
        Binding("escape", "app.leave_form", "Leave form"),
        # The app's priority Ctrl+C acts; this one only puts it in the footer
        # while a field has focus (and `q` is typed into it).
        Binding("ctrl+c", "app.quit", "Quit", priority=True),
    ]

    class Submitted(Message):
        pass

    def __init__(self, config: RunConfig, *, id: str | None = None) -> None:
        super().__init__(id=id)
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
                yield Label(label, classes="form-label")
                yield self._input(field)
                yield Static("", id=f"e-{field}", classes="form-error")
        yield Label("Contract", classes="form-label")
        yield Select(
            [(c, c) for c in CONTRACTS],
            value=self._config.contract,
            allow_blank=False,
            id="f-contract",
            compact=True,
        )
        yield Button("Start", id="start", variant="success")
        kept = changed_settings(self._config, IN_FORM)
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
        self._sync_start()

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
        """The base config with the form's values (call only when valid)."""
        values: dict[str, Any] = {}
        for field, _ in TEXT_FIELDS:
            if field == "vus" and self._config.rate:
                continue  # the open model: the base config's VUs, untouched
            if field == "vus" and self._ramp_from_zero():
                values[field] = 0
                continue
            values[field] = PARSERS[field](self.query_one(f"#f-{field}", Input).value)
        values["contract"] = str(self.query_one("#f-contract", Select).value)
        if values["stages"]:  # the run lasts the stages' sum, as with --stages
            values["duration"] = total_duration(parse_stages(values["stages"]))
        return dataclasses.replace(self._config, **values)
