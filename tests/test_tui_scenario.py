"""The form's Scenario select (issue 17): a built-in or the --scenario file,
applied as the command line applies it; Dispute ratio only where the scenario
has that param. Real runs against the builtin target."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select

from engine.config import build_config
from engine.scenario.select import with_scenario
from tests.test_tui_pilot import SIZE, wait_for
from tui.app import WebhookLoadApp
from tui.form import RunForm
from tui.widgets import SplitPanel

pytestmark = pytest.mark.anyio
REPO_HOOKS = str(Path(__file__).parent / "data" / "repo_hooks.toml")
SHORT = {"target": "builtin", "duration": "2s", "vus": "2", "think": "0"}


def ratio_shown(app: WebhookLoadApp) -> bool:
    return bool(app.query_one("#f-dispute_ratio", Input).display) and bool(
        app.query_one("#l-dispute_ratio").display
    )


async def test_payments_picked_in_the_form_runs_against_builtin() -> None:
    app = WebhookLoadApp(build_config(SHORT))
    async with app.run_test(size=SIZE) as pilot:
        select = app.query_one("#f-scenario", Select)
        assert [label for label, _ in app.query_one(RunForm).choices.options] == [
            "ingest",
            "plan",
            "github",
            "paddle",
            "payments",
            "shopify",
            "slack",
            "square",
            "standard",
            "stripe",
        ]
        assert select.value == "ingest" and ratio_shown(app)
        assert app.sub_title == "scenario ingest"  # the header names it, not "payment-webhook"
        select.value = "payments"
        await pilot.pause()
        assert not ratio_shown(app)  # payments has no dispute_ratio: it would change nothing
        assert app.query_one(SplitPanel).border_title == "Payments / refunds"  # before a run
        assert app.sub_title == "scenario payments"
        assert app.query_one(RunForm).is_valid
        await pilot.click("#start")
        await wait_for(pilot, lambda: app.state == "finished", limit_s=60)
        assert app.result is not None and app.result.total.errors == 0
        assert app.result.total.success > 0 and app.result.config.scenario == "payments"
        assert app.query_one(SplitPanel).border_title == "Payments / refunds"
        assert app.sub_title == "scenario payments"
        await pilot.press("q")


async def test_ingest_still_reads_orders_and_disputes_with_its_ratio() -> None:
    app = WebhookLoadApp(build_config(SHORT))
    async with app.run_test(size=SIZE) as pilot:
        select = app.query_one("#f-scenario", Select)
        select.value = "payments"
        await pilot.pause()
        select.value = "ingest"  # and back: the ratio shows again, with its value
        await pilot.pause()
        assert ratio_shown(app)
        app.query_one("#f-dispute_ratio", Input).value = "0.5"
        await pilot.pause()
        config = app.query_one(RunForm).config()
        # as --contract ingest (the default) on the command line
        assert (config.scenario, config.contract, config.dispute_ratio) == ("", "ingest", 0.5)
        await pilot.click("#start")
        await wait_for(pilot, lambda: app.state == "finished", limit_s=60)
        assert app.result is not None and app.result.total.errors == 0
        assert app.query_one(SplitPanel).border_title == "Orders / disputes"
        await pilot.press("q")


async def test_a_choice_the_command_line_refuses_is_the_forms_error() -> None:
    """builtin receives stripe (the target reads its file) but not a file it
    cannot tell runs apart in: said under Scenario, and Start is off."""
    given = {"scenario", "target"}
    raw = {**SHORT, "target": "http://127.0.0.1:9", "scenario": REPO_HOOKS}
    app = WebhookLoadApp(with_scenario(build_config(raw), given), given=given)
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        assert form.is_valid, form.errors
        app.query_one("#f-target", Input).value = "builtin"
        await pilot.pause()
        assert "cannot tell this flow's runs apart" in form.errors["scenario"]
        assert app.query_one("#e-scenario").display and app.query_one("#start", Button).disabled
        app.query_one("#f-scenario", Select).value = "stripe"
        await pilot.pause()
        assert form.is_valid, form.errors  # the builtin target receives stripe
        assert ratio_shown(app)  # stripe has a dispute_ratio param
        config = form.config()
        assert config.scenario == "stripe" and config.signature_header == "Stripe-Signature"
        assert config.target == "builtin"
        app.query_one("#f-scenario", Select).value = "payments"
        await pilot.pause()  # the file's signature header went with it
        assert form.config().signature_header == ""


async def test_the_scenario_file_is_offered_by_its_name_and_the_flag_wins() -> None:
    given = {"scenario", "target", "dispute_ratio"}
    raw = {"target": "http://127.0.0.1:9", "scenario": "ingest", "dispute_ratio": "0.1"}
    app = WebhookLoadApp(with_scenario(build_config(raw), given), given=given)
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        assert form.config().dispute_ratio == 0.1  # --dispute-ratio over the file's 0.3
        assert "dispute_ratio" in form.config().scenario_overrides
        app.query_one("#f-scenario", Select).value = "payments"
        await pilot.pause()  # no such param there: not applied, not refused
        assert form.is_valid and form.config().scenario == "payments"
    file_given = {"scenario", "target"}
    raw = {"target": "http://127.0.0.1:9", "scenario": REPO_HOOKS}
    cfg = with_scenario(build_config(raw), file_given)
    app = WebhookLoadApp(cfg, given=file_given)
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        assert form.choices.options[-1] == ("repo-hooks", REPO_HOOKS)  # the file's name
        assert app.query_one("#f-scenario", Select).value == REPO_HOOKS and not ratio_shown(app)
        assert form.config().scenario_text == cfg.scenario_text


async def test_contract_from_the_command_line_preselects_and_another_choice_replaces_it() -> None:
    given = {"contract", "target"}
    app = WebhookLoadApp(build_config({"target": "builtin", "contract": "plan"}), given=given)
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        assert app.query_one("#f-scenario", Select).value == "plan" and ratio_shown(app)
        assert (form.config().contract, form.config().scenario) == ("plan", "")
        app.query_one("#f-scenario", Select).value = "payments"
        await pilot.pause()  # not "--scenario used without --contract": the form chose
        assert form.is_valid, form.errors
        assert (form.config().scenario, form.config().contract) == ("payments", "ingest")
