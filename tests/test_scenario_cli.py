"""``webhookload-tui scenarios``: list, show, check (sends nothing), bad files exit 2."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from engine.errors import EXIT_OK, EXIT_USAGE
from engine.scenario.loader import builtin_text
from tui.cli import main

SIGNED = """\
[scenario]
name = "psp"
description = "A PSP that signs"
event_id = { gen = "id", prefix = "evt_", length = 20 }
correlation_header = "Idempotency-Key"
sign = "stripe"
signature_header = "Stripe-Signature"

[webhooks.events]
path = "/hooks"
headers = { "Authorization" = "Bearer sk_live_do_not_print", "X-Source" = "psp" }

[api.create]
url = "/api/payments"
body = "create"
capture = { tx = "$.payment.id" }

[flows.payment]
root = 1
initial = "create"
vars = { amount = { gen = "int", min = 100, max = 900 } }

[flows.payment.states.create]
api = "create"
next = { captured = 1 }

[flows.payment.states.captured]
webhook = "events"
body = "event"

[templates.create]
amount = "{vars.amount}"

[templates.event]
id = "{event_id}"
type = "payment.{word}"
tx = "{vars.tx}"
amount = "{vars.amount}"
"""


def test_list_names_every_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("github    GitHub webhooks")  # sorted by name
    assert "\ningest    The ingest service's" in out
    for provider in ("paddle", "shopify", "slack", "square", "standard"):
        assert f"\n{provider:<8}  " in out
    assert "\nplan      The original plan's" in out
    assert "\npayments  The payment manager's acquirer" in out
    assert "\nstripe    Stripe's event webhooks" in out


def test_show_prints_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "plan"]) == EXIT_OK
    assert capsys.readouterr().out == builtin_text("plan")


def test_show_an_unknown_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "pln"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == (
        "webhookload-tui: no scenario file or built-in named 'pln' (did you mean 'plan'?);"
        " built-ins: github, ingest, paddle, payments, plan, shopify, slack, square,"
        " standard, stripe\n"
    )


def test_check_prints_a_sample_with_secrets_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "psp.toml"
    path.write_text(SIGNED)
    rc = main(
        [
            "scenarios",
            "check",
            str(path),
            "--target",
            "http://t:1?token=tk",
            "--read-api",
            "http://a:2",
        ]
    )
    out = capsys.readouterr().out
    assert rc == EXIT_OK, out
    blocks = out.split("\n\n")
    assert blocks[0].splitlines() == [
        f"{path}: ok: scenario 'psp': flows payment (2 states, root); webhooks events;"
        " API steps create",
        "reference target (--target builtin): receives it (from the file)",
        "A sample journey (--seed 1; nothing was sent):",
    ]
    api = blocks[1].splitlines()
    assert api[0] == "POST http://a:2/api/payments   [payment.create]"
    amount = orjson.loads(api[1])["amount"]
    assert isinstance(amount, int) and 100 <= amount <= 900
    hook = blocks[2].splitlines()
    assert hook[0] == "POST http://t:1/hooks?token=(hidden)   [payment.captured]"
    assert hook[1] == "Authorization: <hidden>"
    assert hook[2] == "X-Source: psp"
    assert (
        hook[3].startswith("Idempotency-Key: evt_")
        and len(hook[3]) == len("Idempotency-Key: ") + 24
    )
    assert hook[4] == "Stripe-Signature: <hidden>"
    body = orjson.loads(hook[5])
    assert body["type"] == "payment.captured"
    assert body["tx"] == "<captured $.payment.id>"
    assert body["amount"] == amount  # a flow's var is fixed across its events
    assert "sk_live" not in out and "token=tk" not in out  # a query token: its name only


def test_check_a_bad_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "psp.toml"
    path.write_text(SIGNED.replace('tx = "{vars.tx}"', 'tx = "{vars.txn}"'))
    assert main(["scenarios", "check", str(path)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"webhookload-tui: {path}:37: templates.event.tx: unknown variable 'txn'"
        " in flow 'payment' (did you mean 'tx'?)\n"
    )


def test_an_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["scenarios", "lint", "x.toml"])
    assert info.value.code == EXIT_USAGE
    assert "invalid choice: 'lint'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("github", "receives it (from the file)"),
        ("payments", "receives it (its hand-written service)"),
        ("standard", "receives it signed only (its events carry their id only in webhook-id"),
        ("slack", "cannot receive it: flows.message: the reference target cannot tell"),
    ],
)
def test_check_says_whether_the_reference_target_can_receive_it(
    name: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenarios", "check", name]) == EXIT_OK
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith("reference target (--target builtin): " + says), line


def test_check_samples_against_a_runs_own_default_target() -> None:
    """``scenarios check`` showed URLs under 127.0.0.1:8080, where a run without
    --target sends to localhost:3001."""
    from engine.config import RunConfig
    from engine.scenario.commands import CHECK_TARGET

    assert RunConfig().target == CHECK_TARGET
