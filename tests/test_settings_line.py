"""Signing, duplicates, reordering, retries and extra headers are said once they
are on: one ``Delivery settings:`` line in the start lines, the summary and the
TUI's summary; and the TUI lists, under its form, the settings the command line
gave that the form does not show, which Start and ``r`` run with."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from engine.config import RunConfig, build_config
from engine.metrics.stats import Snapshot
from engine.outputs.settings import changed_settings, delivery_settings_lines
from engine.outputs.summary import result_lines
from engine.run.runner import RunResult
from tests.scripted import ScriptedRunner
from tests.test_tui_pilot import SIZE, wait_for
from tui.app import WebhookLoadApp
from tui.headless import banner_lines
from tui.widgets import SummaryPanel

SECRET = "whsec_do_not_show_me"
DELIVERY = {
    "target": "builtin",
    "duration": "30s",
    "sign": "stripe",
    "secret": SECRET,
    "duplicate_rate": "0.1",
    "reorder_rate": "0.05",
    "retries": "3",
    "headers": ["X-Tenant: acme-token"],
}
LINE = (
    "Delivery settings: signed (stripe, in Stripe-Signature), duplicates 10%, reordered 5%,"
    " retries up to 3, headers X-Tenant"
)


def test_the_signature_header_named_is_the_schemes_own() -> None:
    cfg = build_config({"sign": "standard", "secret": WHSEC})
    assert delivery_settings_lines(cfg) == [
        "Delivery settings: signed (standard, in webhook-signature)"
    ]
    renamed = build_config({"sign": "stripe", "secret": SECRET, "signature_header": "X-Sig"})
    assert delivery_settings_lines(renamed) == ["Delivery settings: signed (stripe, in X-Sig)"]


def test_the_start_lines_and_the_summary_say_what_is_on() -> None:
    cfg = build_config(DELIVERY)
    line = LINE
    assert delivery_settings_lines(cfg) == [line]
    assert line in banner_lines(cfg, "http://127.0.0.1:1")
    summary = result_lines(RunResult(cfg, "http://127.0.0.1:1", Snapshot(), 1.0, stopped=False))
    assert line in summary
    text = "\n".join([*banner_lines(cfg), *summary])
    assert SECRET not in text and "acme-token" not in text


WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize("raw", [{}, {"sign": "standard", "secret": WHSEC}, {"retries": "1"}])
def test_a_plain_run_has_no_line_and_each_setting_alone_has_one(raw: dict[str, str]) -> None:
    lines = delivery_settings_lines(build_config(raw))
    assert len(lines) == (1 if raw else 0)
    assert all(WHSEC not in ln and "MfKQ" not in ln for ln in lines)


def test_changed_settings_are_the_flags_that_give_them() -> None:
    cfg = build_config({**DELIVERY, "thresholds": ["p99<250ms", "errors<1%"], "vus": "7"})
    kept = changed_settings(cfg, ("target", "vus", "duration"))
    assert kept == [
        "--threshold p99<250ms",
        "--threshold errors<1%",
        "--sign stripe",
        "--header 'X-Tenant: (hidden)'",
        "--duplicate-rate 0.1",
        "--reorder-rate 0.05",
        "--retries 3",
    ]
    assert changed_settings(RunConfig(), ()) == []


@pytest.mark.anyio
async def test_the_tui_lists_the_command_lines_settings_and_r_runs_with_them() -> None:
    cfg = build_config(DELIVERY)
    runs: list[RunConfig] = []

    def runner(c: RunConfig, sink: object) -> ScriptedRunner:
        runs.append(c)
        return ScriptedRunner(c, sink, finish=True)  # type: ignore[arg-type]

    app = WebhookLoadApp(cfg, runner_factory=runner)
    async with app.run_test(size=SIZE) as pilot:
        kept = str(app.query_one("#cli-settings", Static).render())
        for flag in ("--sign stripe", "--duplicate-rate 0.1", "--reorder-rate 0.05"):
            assert flag in kept
        assert "--retries 3" in kept and "X-Tenant" in kept
        assert SECRET not in kept and "acme-token" not in kept and "--target" not in kept
        await pilot.press("escape", "s")  # out of the form, so `s` starts
        await wait_for(pilot, lambda: app.state == "finished")
        summary = app.query_one(SummaryPanel).plain
        assert LINE in " ".join(summary.split())
        await pilot.press("r")
        await wait_for(pilot, lambda: len(runs) == 2 and app.state == "finished")
        assert runs[1].sign == "stripe" and runs[1].retries == 3 and runs[1].secret == SECRET
        await pilot.press("q")


@pytest.mark.anyio
async def test_a_form_only_run_lists_nothing() -> None:
    app = WebhookLoadApp(build_config({"target": "builtin", "vus": "3"}))
    async with app.run_test(size=SIZE):
        assert not app.query("#cli-settings")


def test_a_scenario_file_is_listed_as_the_flag_not_its_text() -> None:
    """A newcomer saw `--scenario-text [webhooks.events]...` under Start: the
    file's text, shape and overrides are derived from --scenario, not flags."""
    from engine.scenario.select import with_scenario

    path = str(Path(__file__).parent / "data" / "repo_hooks.toml")
    cfg = with_scenario(build_config({"scenario": path}), {"scenario"})
    assert cfg.scenario_text  # derived from the file
    assert changed_settings(cfg, ("target", "vus", "duration")) == [f"--scenario {path}"]


def test_an_unsigned_run_of_a_signing_providers_file_says_so() -> None:
    """A newcomer set WEBHOOKLOAD_SECRET, ran ``--scenario github``, got 401s:
    the file's ``sign`` is a default for ``--sign``, signing still takes the
    flag, and nothing said the run was unsigned. Now a line does, and names
    the flag; a signed run says which scheme instead."""
    from engine.scenario.select import with_scenario

    unsigned = with_scenario(build_config({"scenario": "github"}), {"scenario"})
    assert delivery_settings_lines(unsigned)[0].startswith(
        "Delivery settings: unsigned (this scenario signs with github: add --sign github)"
    )
    signed = with_scenario(
        build_config({"scenario": "github", "sign": "github", "secret": SECRET}),
        {"scenario", "sign"},
    )
    assert "unsigned" not in delivery_settings_lines(signed)[0]
    assert delivery_settings_lines(signed)[0].startswith("Delivery settings: signed (github, in ")
    assert "scenario_sign" not in unsigned.as_dict()  # derived, not a flag
    assert changed_settings(unsigned, ("target", "vus", "duration")) == ["--scenario github"]
