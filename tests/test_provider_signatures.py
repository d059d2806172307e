"""The built-in schemes against each provider's published test vector, and our
signatures accepted by each provider's own verifier from PyPI (issue 22 part 1):
with one secret, with a wrong one (refused), and with two secrets while one
rolls (a receiver holding either accepts). Sources: docs/SIGNING.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from types import SimpleNamespace

import pytest
import standardwebhooks.webhooks
import stripe
import svix.webhooks
from githubkit.webhooks import verify as github_verify
from paddle_billing.Notifications import Secret as PaddleSecret
from paddle_billing.Notifications import Verifier as PaddleVerifier
from slack_sdk.signature import SignatureVerifier
from square.utils.webhooks_helper import verify_signature as square_verify

from engine.domain.signing import make_signer

BODY = b'{"id":"evt_1","type":"order.paid","data":{"amount":1999,"currency":"usd"}}'
URL = "http://127.0.0.1:8080/webhooks/payments/orders?token=abc"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WHSEC_NEW = "whsec_QUJDREVGR0hJSktMTU5PUA=="
WHSEC_WRONG = "whsec_d3JvbmdrZXl3cm9uZ2tleQ=="


def _signed(scheme: str, secret: str, body: bytes = BODY, url: str = URL) -> dict[str, str]:
    """Headers signed now (the libraries check freshness against their own clock)."""
    return dict(make_signer(scheme, secret).headers(body, "msg_2Yh0V1C7", int(time.time()), url))


# -- published test vectors ---------------------------------------------------------


def test_github_docs_vector() -> None:
    """github/docs validating-webhook-deliveries.md."""
    signer = make_signer("github", "It's a Secret to Everybody")
    assert signer.headers(b"Hello, World!", "", 0) == [
        (
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )
    ]
    legacy = make_signer("github-sha1", "It's a Secret to Everybody")
    expected = hmac.new(b"It's a Secret to Everybody", b"Hello, World!", "sha1").hexdigest()
    assert legacy.headers(b"Hello, World!", "", 0) == [("X-Hub-Signature", f"sha1={expected}")]


def test_slack_docs_vector() -> None:
    """Slack's verifying-requests page, as used in python-slack-sdk's own tests."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        b"-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
        b"00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d"
        b"10d2c447fce8b6703c"
    )
    signer = make_signer("slack", "8f742231b10e8888abcd99yyyzzz85a5")
    assert signer.headers(body, "", 1531420618) == [
        ("X-Slack-Request-Timestamp", "1531420618"),
        (
            "X-Slack-Signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ),
    ]


PADDLE_BODY = (
    b'{"data":{"id":"ctm_01hs0tqf76sxmp7ba5e4mw1sc8","name":"John Doe","email":"blackhole+verific'
    b'ation2@paddle.com","locale":"en","status":"active","created_at":"2024-03-15T10:32:37.862Z",'
    b'"updated_at":"2024-03-15T10:32:37.862Z","custom_data":null,"import_meta":null,"marketing_co'
    b'nsent":false},"event_id":"evt_01hs0tqfme2xwb2hvwv87p8y3w","event_type":"customer.created","'
    b'occurred_at":"2024-03-15T10:32:38.286848Z","notification_id":"ntf_01hs0tqfrhgkyp39x4wyvy7h6n"}'
)


def test_paddle_sdk_example_vector() -> None:
    """paddle-python-sdk examples/webhook_verification.py (body: its fixture, stripped)."""
    signer = make_signer(
        "paddle", "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"
    )
    assert signer.headers(PADDLE_BODY, "", 1710498758) == [
        (
            "Paddle-Signature",
            "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744",
        )
    ]


def test_square_sdk_vector() -> None:
    """square-python-sdk tests/integration/test_webhooks_helper.py."""
    body = (
        b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-'
        b'f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type'
        b'":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
    )
    url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
    signer = make_signer("square", "Ibxx_5AKakO-3qeNVR61Dw")
    assert signer.headers(body, "", 0, url) == [
        ("x-square-hmacsha256-signature", "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=")
    ]


# -- the providers' own verifiers ---------------------------------------------------


def test_stripe_construct_event_accepts_and_a_rolling_secret_passes_both() -> None:
    old, new = "whsec_stripe_old_7f3a9c", "whsec_stripe_new_0b1d2e"
    header = _signed("stripe", old)["Stripe-Signature"]
    event = stripe.Webhook.construct_event(BODY.decode(), header, old)
    assert event["id"] == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(BODY.decode(), header, new)
    both = _signed("stripe", f"{old}\n{new}")["Stripe-Signature"]
    assert both.count(",v1=") == 2
    for held in (old, new):
        stripe.Webhook.construct_event(BODY.decode(), both, held)


def test_standardwebhooks_and_svix_accept_and_a_rolling_secret_passes_both() -> None:
    for scheme, lib in (
        ("standard", standardwebhooks.webhooks.Webhook),
        ("svix", svix.webhooks.Webhook),
        ("standard", svix.webhooks.Webhook),  # svix also reads the webhook-* names
    ):
        headers = _signed(scheme, WHSEC)
        lib(WHSEC).verify(BODY, headers)
        with pytest.raises(Exception, match=r"(?i)no matching signature"):
            lib(WHSEC_WRONG).verify(BODY, headers)
        both = _signed(scheme, f"{WHSEC}\n{WHSEC_NEW}")
        for held in (WHSEC, WHSEC_NEW):
            lib(held).verify(BODY, both)
        with pytest.raises(Exception, match=r"(?i)no matching signature"):
            lib(WHSEC_WRONG).verify(BODY, both)


def test_githubkit_verify_accepts() -> None:
    secret = "It's a Secret to Everybody"
    signature = _signed("github", secret)["X-Hub-Signature-256"]
    assert signature.startswith("sha256=")  # githubkit falls back to SHA-1 without it
    assert github_verify(secret, BODY, signature)
    assert not github_verify("another secret", BODY, signature)
    legacy = _signed("github-sha1", secret)["X-Hub-Signature"]
    assert github_verify(secret, BODY, legacy)


def test_slack_signature_verifier_accepts() -> None:
    headers = _signed("slack", "8f742231b10e8888abcd99yyyzzz85a5")
    assert SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").is_valid_request(BODY, headers)
    assert not SignatureVerifier("another").is_valid_request(BODY, headers)


def test_paddle_verifier_accepts_within_its_five_seconds_and_a_rolling_secret() -> None:
    old, new = "pdl_ntfset_01old_AAAA", "pdl_ntfset_01new_BBBB"

    def request(headers: dict[str, str]) -> SimpleNamespace:
        return SimpleNamespace(headers=headers, body=BODY)

    verifier = PaddleVerifier()
    assert verifier.verify(request(_signed("paddle", old)), PaddleSecret(old))
    assert not verifier.verify(request(_signed("paddle", old)), PaddleSecret(new))
    both = _signed("paddle", f"{old}\n{new}")
    assert both["Paddle-Signature"].count(";h1=") == 2
    for held in (old, new):
        assert verifier.verify(request(both), PaddleSecret(held))


def test_square_webhooks_helper_accepts_with_the_url_sent_to() -> None:
    key = "Ibxx_5AKakO-3qeNVR61Dw"
    signature = _signed("square", key)["x-square-hmacsha256-signature"]
    text = BODY.decode()
    ok = square_verify(
        request_body=text, signature_header=signature, signature_key=key, notification_url=URL
    )
    assert ok
    wrong_url = square_verify(
        request_body=text, signature_header=signature, signature_key=key, notification_url=URL[:-1]
    )
    wrong_key = square_verify(
        request_body=text, signature_header=signature, signature_key="x", notification_url=URL
    )
    assert not wrong_url and not wrong_key


def test_shopify_documented_recipe_accepts() -> None:
    """Shopify publishes no Python verifier: base64(HMAC-SHA256(client secret, raw body)),
    compared in constant time (shopify.dev, "Verify the webhook")."""
    secret = "shpss_2f0c8e1d7a"
    got = _signed("shopify", secret)["X-Shopify-Hmac-Sha256"]
    want = base64.b64encode(hmac.new(secret.encode(), BODY, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(got, want)
