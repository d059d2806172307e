"""`?` and F1: Textual's own keys panel (HelpPanel), through Pilot on scripted
runners. A newcomer found the keys only in the footer and under the palette's
"Keys"; the panel lists the keys that act now, each with what it does."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.widgets import HelpPanel, Input
from textual.widgets._key_panel import BindingsTable

from tests.test_tui_keys import CONFIG, SIZE, URL, in_form, scripted, shown_bindings, wait_for
from tui.app import WebhookLoadApp

pytestmark = pytest.mark.anyio


def panel_text(app: WebhookLoadApp) -> str:
    """The keys panel as it reads (its table, rendered wide enough not to wrap)."""
    table = app.screen.query_one(HelpPanel).query_one(BindingsTable).render_bindings_table()
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    return out.getvalue()


def rows(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


async def test_question_mark_shows_and_hides_the_keys_with_what_they_do() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")  # out of the form, where `?` is not typed
        assert shown_bindings(app).get("question_mark") == ("Help", True)  # the footer says so
        await pilot.press("question_mark")
        await pilot.pause()
        text = rows(panel_text(app))
        assert "s Start run the form's settings" in text, text
        assert "? f1 Help show or hide this" in text, text
        assert not [row for row in text if "Stop" in row]  # only the keys that act now
        await pilot.press("s")  # the panel follows: mid-run, x is there
        await wait_for(pilot, lambda: app.state == "running")
        await pilot.pause()
        assert "x Stop end the run now (in-flight requests cancelled)" in rows(panel_text(app))
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query(HelpPanel)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


async def test_in_a_field_question_mark_is_typed_and_f1_shows_the_keys() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#f-target", Input)
        assert in_form(app) and app.focused is field
        assert shown_bindings(app).get("f1") == ("Help", True)  # `?` would be typed
        await pilot.press("question_mark")
        await pilot.pause()
        assert field.value == URL + "?" and not app.screen.query(HelpPanel)
        await pilot.press("f1")
        await pilot.pause()
        assert app.focused is field  # still typing where it was
        text = rows(panel_text(app))
        assert "esc Leave form so the one-letter keys act" in text, text
        await pilot.press("f1")
        await pilot.pause()
        assert not app.screen.query(HelpPanel)
