"""Signing schemes as data (issue 22): the loader's one-line errors, the signer
compiled from a table (hash, encoding, key decoding, timestamp form, several
secrets), and the verifier that reads a scheme's templates back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from engine.domain.schemes import (
    REFUSED,
    SchemeError,
    builtin,
    builtin_names,
    load_scheme,
    scheme_from_table,
)
from engine.domain.signing import SchemeSigner, SecretError, make_signer, make_verifier
from engine.domain.signing_base import Failure, Hmac, split_secrets
from engine.domain.signing_verify import SchemeVerifier

NOW = 1_700_000_000
BODY = b'{"id": "evt_1", "amount": 1999}'
URL = "https://hooks.example.com/in?token=abc"
TEXT_SECRET = "It's a Secret to Everybody"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WHSEC_2 = "whsec_QUJDREVGR0hJSktMTU5PUA=="


def _secret(name: str, second: bool = False) -> str:
    if builtin(name).key == "whsec-base64":
        return WHSEC_2 if second else WHSEC
    return "rolled-in secret" if second else TEXT_SECRET


def _table(**over: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": "acme",
        "signed": "{timestamp}.{body}",
        "headers": {"X-Acme-Signature": "t={timestamp},s={sig}"},
    }
    table.update(over)
    return {k: v for k, v in table.items() if v is not None}


def test_the_built_in_schemes_load_and_the_refused_providers_say_why() -> None:
    names = builtin_names()
    for expected in ("stripe", "standard", "svix", "github", "shopify", "slack", "paddle"):
        assert expected in names
    for name in ("square", "zendesk", "segment", "github-sha1"):
        assert name in names
    for name in names:
        scheme = builtin(name)
        assert scheme.name == name and scheme.source
    assert builtin("stripe").signature_header == "Stripe-Signature"
    for name in ("adyen", "twilio", "paypal"):
        with pytest.raises(ValueError) as err:
            builtin(name)
        assert str(err.value).count("\n") == 0 and REFUSED[name] in str(err.value)
    assert "RSA" in REFUSED["paypal"] and "body" in REFUSED["adyen"]
    assert "form parameters" in REFUSED["twilio"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"colour": "red"}, "acme.toml.colour: unknown key"),
        ({"name": "Acme Corp"}, "acme.toml.name: expected a lower-case name"),
        ({"headers": {}}, "acme.toml.headers: expected a table"),
        ({"headers": {"Bad Name": "{sig}"}}, "acme.toml.headers.Bad Name: not an HTTP header"),
        ({"headers": {"X-S": "{signature}"}}, "acme.toml.headers.X-S: unknown placeholder"),
        ({"headers": {"X-S": "{sig:>8}"}}, "unknown placeholder {sig:>8}"),
        ({"headers": {"X-S": "{sig"}}, "acme.toml.headers.X-S: unbalanced braces"),
        ({"headers": {"X-S": "{id}"}}, "acme.toml.headers: expected {sig} exactly once"),
        ({"headers": {"X-A": "{sig}", "X-B": "{sig}"}}, "expected {sig} exactly once"),
        ({"signed": "{timestamp}"}, "acme.toml.signed: expected {body} exactly once"),
        ({"signed": "{body}{body}"}, "acme.toml.signed: expected {body} exactly once"),
        ({"signed": "{id}.{body}"}, "acme.toml.signed: {id} is signed but no header sends it"),
        ({"signed": "{sig}{body}"}, "acme.toml.signed: unknown placeholder {sig}"),
        ({"algorithm": "md5"}, "acme.toml.algorithm: expected one of sha1, sha256, sha512"),
        ({"encoding": "base32"}, "acme.toml.encoding: expected one of hex, base64"),
        ({"key": "base64"}, "acme.toml.key: expected one of text, whsec-base64, hex"),
        ({"timestamp": "ms"}, "acme.toml.timestamp: expected one of unix, rfc3339"),
        ({"join": 1}, "acme.toml.join: expected a string"),
        ({"rename": "yes"}, "acme.toml.rename: expected true or false"),
        ({"join": ";"}, "acme.toml.join: the piece of X-Acme-Signature"),
    ],
)
def test_a_bad_table_is_one_line_naming_the_key_path(over: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemeError) as err:
        scheme_from_table(_table(**over), "acme.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_scheme_from_toml_text_and_bad_toml() -> None:
    text = """
name = "zendesk-connectors"
signed = "{body}{timestamp}"
encoding = "base64"
timestamp = "rfc3339"
[headers]
X-Zendesk-Webhook-Signature = "{sig}"
X-Zendesk-Webhook-Signature-Timestamp = "{timestamp}"
"""
    scheme = load_scheme(text, "scenario.toml")
    assert scheme.headers[0] == ("X-Zendesk-Webhook-Signature", "{sig}")
    with pytest.raises(SchemeError, match=r"^broken\.toml: "):
        load_scheme("name = ", "broken.toml")


def test_zendesk_event_connectors_example_signs_body_then_rfc3339_timestamp() -> None:
    """developer.zendesk.com/documentation/event-connectors/webhooks/verifying: the
    example secret, body, RFC 3339 timestamp and signature (HMAC of body + timestamp)."""
    scheme = scheme_from_table(
        {
            "name": "zendesk-connectors",
            "signed": "{body}{timestamp}",
            "encoding": "base64",
            "timestamp": "rfc3339",
            "headers": {
                "X-Zendesk-Webhook-Signature": "{sig}",
                "X-Zendesk-Webhook-Signature-Timestamp": "{timestamp}",
            },
        }
    )
    signer = SchemeSigner(scheme, "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=")
    ts = 1627207200  # 2021-07-25T10:00:00Z
    assert signer.headers(b'{"say": "hello"}', "", ts) == [
        ("X-Zendesk-Webhook-Signature", "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="),
        ("X-Zendesk-Webhook-Signature-Timestamp", "2021-07-25T10:00:00Z"),
    ]


@pytest.mark.parametrize(("alg", "enc"), [("sha1", "hex"), ("sha512", "base64"), ("sha256", "hex")])
def test_hash_encoding_and_hex_key_match_the_stdlib(alg: str, enc: str) -> None:
    key = bytes(range(40))
    scheme = scheme_from_table(_table(algorithm=alg, encoding=enc, key="hex"))
    ((_, value),) = SchemeSigner(scheme, key.hex()).headers(BODY, "e", NOW)
    mac = hmac.new(key, b"%d.%s" % (NOW, BODY), alg)
    sig = mac.hexdigest() if enc == "hex" else base64.b64encode(mac.digest()).decode()
    assert value == f"t={NOW},s={sig}"
    with pytest.raises(SecretError, match="a hex secret for --sign acme"):
        SchemeSigner(scheme, "not hex")


@pytest.mark.parametrize("alg", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("size", [0, 20, 64, 65, 128, 129, 300])
def test_the_precomputed_hmac_equals_the_stdlib_one(alg: str, size: int) -> None:
    key = bytes((7 * i) % 256 for i in range(size))
    mac = Hmac(key, alg)
    for msg in (b"", BODY, bytes(range(256)) * 9):
        assert mac.digest(msg) == hmac.new(key, msg, alg).digest()
        assert mac.hexdigest(msg) == hmac.new(key, msg, hashlib.new(alg).name).hexdigest()


def test_several_secrets_one_signature_each_joined_as_the_scheme_says() -> None:
    assert split_secrets("old\nnew\r\n\n") == ["old", "new"]
    stripe = dict(make_signer("stripe", "old\nnew").headers(BODY, "e", NOW))
    one = dict(make_signer("stripe", "old").headers(BODY, "e", NOW))["Stripe-Signature"]
    two = dict(make_signer("stripe", "new").headers(BODY, "e", NOW))["Stripe-Signature"]
    assert stripe["Stripe-Signature"] == f"{one},v1={two.split('v1=')[1]}"
    paddle = dict(make_signer("paddle", "old\nnew").headers(BODY, "e", NOW))["Paddle-Signature"]
    assert paddle.startswith(f"ts={NOW};h1=") and paddle.count(";h1=") == 2
    std = dict(make_signer("standard", f"{WHSEC}\n{WHSEC_2}").headers(BODY, "e", NOW))
    assert [s[:3] for s in std["webhook-signature"].split(" ")] == ["v1,", "v1,"]
    with pytest.raises(SecretError, match="one secret for --sign github"):
        make_signer("github", "old\nnew")


@pytest.mark.parametrize("name", builtin_names())
def test_every_scheme_round_trips_and_a_rolling_secret_passes_either_receiver(name: str) -> None:
    old, new = _secret(name), _secret(name, second=True)
    signer = make_signer(name, old)
    headers = dict(signer.headers(BODY, "msg_1", NOW, URL))
    verifier = SchemeVerifier(builtin(name), old, "", 300)
    assert verifier.verify(headers, BODY, NOW, URL) is None
    assert verifier.verify(headers, BODY + b" ", NOW, URL) == Failure.MISMATCH
    assert SchemeVerifier(builtin(name), new, "", 300).verify(headers, BODY, NOW, URL) == (
        Failure.MISMATCH
    )
    assert verifier.verify({}, BODY, NOW, URL) == Failure.MISSING
    if "{timestamp}" in builtin(name).signed:
        assert verifier.verify(headers, BODY, NOW + 301, URL) == Failure.STALE
    if "{url}" in builtin(name).signed:
        assert verifier.verify(headers, BODY, NOW, URL + "&x=1") == Failure.MISMATCH
    if not builtin(name).join:
        return
    both = dict(make_signer(name, f"{old}\n{new}").headers(BODY, "msg_1", NOW, URL))
    for held in (old, new):  # a receiver holding either secret accepts
        assert make_verifier(name, held).verify(both, BODY, NOW, URL) is None
        assert SchemeVerifier(builtin(name), held, "", 300).verify(both, BODY, NOW, URL) is None
    assert make_verifier(name, f"{old}\n{new}").verify(headers, BODY, NOW, URL) is None


def test_signature_header_renames_only_where_the_scheme_allows() -> None:
    signer = SchemeSigner(builtin("stripe"), "s", "Webhook-Signature")
    assert signer.headers(BODY, "e", NOW)[0][0] == "Webhook-Signature"
    with pytest.raises(ValueError, match="--signature-header is not used by --sign github"):
        SchemeSigner(builtin("github"), "s", "X-Other")
    assert SchemeSigner(builtin("github"), "s", "X-Hub-Signature-256").header == (
        "X-Hub-Signature-256"
    )


def test_the_signer_never_shows_its_secrets() -> None:
    for name in builtin_names():
        signer = make_signer(name, _secret(name))
        verifier = SchemeVerifier(builtin(name), _secret(name), "", 300)
        for text in (repr(signer), repr(verifier)):
            assert TEXT_SECRET not in text and WHSEC[6:] not in text


def test_a_timestamp_only_prefix_is_reused_within_a_second_never_across() -> None:
    signer = make_signer("slack", "s")
    verifier = SchemeVerifier(builtin("slack"), "s", "", 300)
    for ts in (NOW, NOW, NOW + 1, NOW - 1, NOW + 1):
        headers = dict(signer.headers(BODY, "e", ts))
        assert headers["X-Slack-Request-Timestamp"] == str(ts)
        assert verifier.verify(headers, BODY, ts) is None
