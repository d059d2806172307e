"""The app's keys, each with what it does, and ``?``/F1 for Textual's own help
panel (:class:`textual.widgets.HelpPanel`, the Ctrl+P palette's "Keys"): a
newcomer looks for a help key, and the footer names each key in one word.

The panel lists the keys that act now (Textual hides a key whose action
``check_action`` refuses, as the footer does) with each binding's ``tooltip``
after its name, so the tooltips here say what a key does, briefly."""

from __future__ import annotations

from textual.binding import Binding, BindingType

KEYS: list[BindingType] = [
    Binding("s", "start", "Start", id="start", tooltip="run the form's settings"),
    Binding(
        "x", "stop", "Stop", id="stop", tooltip="end the run now (in-flight requests cancelled)"
    ),
    Binding("r", "rerun", "Run again", id="rerun", tooltip="the form's settings, again"),
    Binding(
        "j",
        "save_json",
        "Save JSON",
        id="save-json",
        tooltip="the summary, to --json or webhookload-results/",
    ),
    Binding(
        "h",
        "save_report",
        "Save report",
        id="save-report",
        tooltip="the HTML report, to webhookload-results/",
    ),
    Binding("q", "quit", "Quit", id="quit", tooltip="mid-run: stops it, keeps its summary"),
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True),  # the form shows it
    # `?` is typed into a field that has focus; F1 acts there too (and the
    # footer then shows F1: Textual hides a key the focused field would take)
    Binding("question_mark,f1", "toggle_help", "Help", id="help", tooltip="show or hide this"),
]
"""The app's bindings; the form adds Enter, Esc and Ctrl+C (tui/form.py)."""
