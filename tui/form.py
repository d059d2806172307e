"""The run form: Target, VUs, Duration, Dispute ratio, and the advanced Think,
Stages and Contract, validated as you type with the CLI's own validators and words.

It scrolls (a short terminal still reaches Start) and is disabled during a
run, so it never shows settings other than the ones running.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from engine.config import CONTRACTS, PARSERS, ConfigError, RunConfig
from engine.domain.durations import format_duration
from engine.domain.stages import parse_stages, total_duration

# (config field, label) in Tab order; Contract (a Select) follows them.
TEXT_FIELDS = (
    ("target", "Target"),
    ("vus", "VUs"),
    ("duration", "Duration"),
    ("dispute_ratio", "Dispute ratio"),
    ("think", "Think"),
    ("stages", "Stages"),  # e.g. 30s:10,1m:50: from VUs, and they replace Duration
)


def _initial(config: RunConfig, field: str) -> str:
    value = getattr(config, field)
    if field in ("duration", "think"):
        return format_duration(value) if value else "0"
    return str(value)


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
        for field, label in TEXT_FIELDS:
            if field == "think":
                yield Static("Advanced", classes="form-section")
            yield Label(label, classes="form-label")
            yield FormInput(
                _initial(self._config, field), id=f"f-{field}", compact=True, select_on_focus=False
            )
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

    def on_mount(self) -> None:
        self.border_title = "Run"
        for field, _ in TEXT_FIELDS:
            self._validate(field, self.query_one(f"#f-{field}", Input).value)
        self._sync_start()

    def _validate(self, field: str, text: str) -> None:
        err = self.query_one(f"#e-{field}", Static)
        try:
            PARSERS[field](text)
        except ConfigError as exc:
            self._errors[field] = str(exc)
            err.update(str(exc))
            err.display = True
            self.query_one(f"#f-{field}", Input).add_class("-invalid-field")
        else:
            self._errors.pop(field, None)
            err.update("")
            err.display = False
            self.query_one(f"#f-{field}", Input).remove_class("-invalid-field")

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
            values[field] = PARSERS[field](self.query_one(f"#f-{field}", Input).value)
        values["contract"] = str(self.query_one("#f-contract", Select).value)
        if values["stages"]:  # the run lasts the stages' sum, as with --stages
            values["duration"] = total_duration(parse_stages(values["stages"]))
        return dataclasses.replace(self._config, **values)
