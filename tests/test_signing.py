"""Signatures: the official vectors, every way a check fails, and the round trip
against the reference target in both schemes, with the secret kept out of sight."""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson
import pytest

from engine.domain.contracts import Event
from engine.domain.schemes import builtin, scheme_from_table
from engine.domain.signing import (
    SCHEMES,
    SECRET_ENV,
    Failure,
    SchemeSigner,
    SecretError,
    StandardSigner,
    StandardVerifier,
    StripeSigner,
    StripeVerifier,
    _Sha256Hmac,
    make_signer,
    make_verifier,
    standard_key,
)
from engine.scenario.delivery import Dressing
from target.__main__ import parse_args
from tests.events import Order, ScenarioEvents
from tests.helpers import get_json
from tests.target_http import send, target_with_output

# Standard Webhooks' own test vector (libraries/*/tests, "test_sign_function").
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

STRIPE_SECRET = "whsec_stripe-style-secret-7f3a9c"
NOW = 1_700_000_000


def test_standard_webhooks_official_vector() -> None:
    signer = StandardSigner(SW_SECRET)
    assert signer.signature(SW_BODY, SW_ID, SW_TS) == SW_EXPECTED
    assert dict(signer.headers(SW_BODY, SW_ID, SW_TS)) == {
        "webhook-id": SW_ID,
        "webhook-timestamp": str(SW_TS),
        "webhook-signature": SW_EXPECTED,
    }
    # the whsec_ prefix is optional and missing base64 padding is tolerated
    assert standard_key(SW_SECRET) == standard_key(SW_SECRET.removeprefix("whsec_"))
    verifier = StandardVerifier(SW_SECRET)
    headers = {
        "webhook-id": SW_ID,
        "webhook-timestamp": str(SW_TS),
        "webhook-signature": SW_EXPECTED,
    }
    assert verifier.verify(headers, SW_BODY, SW_TS) is None


def test_stripe_header_is_hex_hmac_of_timestamp_dot_body() -> None:
    body = b'{"provider_event_id": "e1"}'
    expected = hmac.new(STRIPE_SECRET.encode(), b"%d.%s" % (NOW, body), hashlib.sha256)
    signer = StripeSigner(STRIPE_SECRET, "Stripe-Signature")
    assert signer.headers(body, "ignored", NOW) == [
        ("Stripe-Signature", f"t={NOW},v1={expected.hexdigest()}")
    ]


@pytest.mark.parametrize("scheme", ["stripe", "standard"])
def test_header_block_is_the_same_headers_as_raw_lines(scheme: str) -> None:
    secret = SW_SECRET if scheme == "standard" else STRIPE_SECRET
    signer = make_signer(scheme, secret)
    body = b'{"a": 1}'
    lines = "".join(f"{k}: {v}\r\n" for k, v in signer.headers(body, "evt_1", NOW))
    assert signer.header_block(body, "evt_1", NOW) == lines.encode()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_compiled_one_secret_path_signs_as_the_general_one(scheme: str) -> None:
    """A one-secret signer signs through a closure compiled once a second (its
    prefix hashed ahead): it must give the general path's headers byte for byte,
    across a change of second, of id and of URL (square signs the URL)."""
    secret = SW_SECRET if builtin(scheme).key == "whsec-base64" else "k3y"
    signer = make_signer(scheme, secret)
    assert isinstance(signer, SchemeSigner)
    for ts, event_id, url in [
        (NOW, "evt_1", "http://a/x"),
        (NOW, "evt_2", "http://a/x"),
        (NOW + 1, "evt_2", "http://a/y"),
    ]:
        for body in (b"", b'{"a": 1}', b"x" * 300):
            fast = signer.pairs(body, event_id, ts, url)
            assert signer._fast is not None  # the compiled path did it
            assert fast == signer._general(body, event_id)


def _signed(scheme: str, secret: str, body: bytes, ts: int = NOW) -> dict[str, str]:
    return dict(make_signer(scheme, secret).headers(body, "evt_1", ts))


@pytest.mark.parametrize("scheme", ["stripe", "standard"])
def test_every_way_a_check_fails(scheme: str) -> None:
    secret = SW_SECRET if scheme == "standard" else STRIPE_SECRET
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUA==" if scheme == "standard" else "another"
    verifier = make_verifier(scheme, secret)
    body = b'{"order_id": "o1", "status": "created"}'
    good = _signed(scheme, secret, body)

    def check(headers: dict[str, str], payload: bytes = body, now: float = NOW) -> Failure | None:
        return verifier.verify(headers, payload, now)

    assert check(good) is None
    assert check(good, now=NOW + 300) is None and check(good, now=NOW - 300) is None
    assert check(good, now=NOW + 301) == Failure.STALE  # signed too long ago
    assert check(good, now=NOW - 301) == Failure.STALE  # signed in the future
    assert check({}) == Failure.MISSING
    assert check(_signed(scheme, other, body)) == Failure.MISMATCH
    # the exact raw bytes are signed: the same JSON spelled differently fails
    assert check(good, orjson.dumps(orjson.loads(body))) == Failure.MISMATCH
    if scheme == "stripe":
        name = "Stripe-Signature"
        assert check({name: "v1=abc"}) == Failure.MALFORMED  # no t=
        assert check({name: f"t={NOW}"}) == Failure.MALFORMED  # no v1=
        assert check({name: good[name].replace(f"t={NOW}", "t=-5")}) == Failure.MALFORMED
    else:
        assert check({**good, "webhook-timestamp": "1e9"}) == Failure.MALFORMED
        assert check({k: v for k, v in good.items() if k != "webhook-id"}) == Failure.MISSING
        # the id is signed too: another id with the same signature fails
        assert check({**good, "webhook-id": "evt_2"}) == Failure.MISMATCH


def test_any_of_several_signatures_may_match() -> None:
    body = b"{}"
    right = _signed("stripe", STRIPE_SECRET, body)["Stripe-Signature"]
    wrong = _signed("stripe", "rotated-out", body)["Stripe-Signature"]
    rotating = f"{right},v1={wrong.split('v1=')[1]},v0=legacy"
    assert StripeVerifier(STRIPE_SECRET).verify({"Stripe-Signature": rotating}, body, NOW) is None
    only_wrong = {"Stripe-Signature": wrong + ",v1=zzzz,v1=ünïcode"}
    assert StripeVerifier(STRIPE_SECRET).verify(only_wrong, body, NOW) == Failure.MISMATCH

    headers = _signed("standard", SW_SECRET, body)
    sig = headers["webhook-signature"]
    headers["webhook-signature"] = (
        f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,{sig[3:]} {sig}"
    )
    assert StandardVerifier(SW_SECRET).verify(headers, body, NOW) is None
    headers["webhook-signature"] = f"v2,{sig[3:]} v1,AAAA"  # the right MAC under v2 only
    assert StandardVerifier(SW_SECRET).verify(headers, body, NOW) == Failure.MISMATCH


def test_bad_secrets_and_names_say_what_is_expected_without_the_secret() -> None:
    for bad in ("whsec_not*base64!", "whsec_", ""):
        with pytest.raises(SecretError) as err:
            StandardSigner(bad)
        assert "whsec_<base64>" in str(err.value)
    with pytest.raises(SecretError) as err:
        StandardSigner("whsec_c2VjcmV0*")
    assert "c2VjcmV0" not in str(err.value)
    with pytest.raises(SecretError):
        StripeSigner("")
    with pytest.raises(ValueError, match="--signature-header"):
        StripeVerifier(STRIPE_SECRET, "Bad Header")
    for obj in (
        StripeSigner(STRIPE_SECRET),
        StripeVerifier(STRIPE_SECRET),
        StandardSigner(SW_SECRET),
        StandardVerifier(SW_SECRET),
    ):
        assert STRIPE_SECRET not in repr(obj) and SW_SECRET[6:] not in repr(obj)


def test_target_cli_takes_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SECRET_ENV, SW_SECRET)
    config = parse_args(["--sign", "standard"])
    assert config.secret == SW_SECRET and SW_SECRET not in repr(config)
    assert parse_args([]).secret == ""  # the variable alone does not turn checking on
    monkeypatch.setenv(SECRET_ENV, "whsec_***")
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--sign", "standard"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--secret must be a whsec_<base64> secret" in err and "whsec_***" not in err
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(SystemExit):
        parse_args(["--sign", "stripe"])
    assert f"set {SECRET_ENV} or pass --secret" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--secret", "s3"])
    assert "--secret needs --sign" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("scheme", "secret", "extra"),
    [
        ("stripe", STRIPE_SECRET, ("--signature-header", "Stripe-Signature")),
        ("standard", SW_SECRET, ()),
    ],
)
def test_signed_webhooks_round_trip_against_the_target(
    scheme: str, secret: str, extra: tuple[str, ...]
) -> None:
    contract = ScenarioEvents()
    header = extra[1] if extra else "Stripe-Signature"
    signer = make_signer(scheme, secret, header)
    other = "whsec_QUJDREVGR0hJSktMTU5PUA==" if scheme == "standard" else "x"
    wrong = make_signer(scheme, other, header)

    def deliver(status: str, order: Order, ts_offset: int = 0, sign: object = signer) -> int:
        body = contract.order_event(order, status).body
        event_id = orjson.loads(body)["provider_event_id"]
        headers = {}
        if sign is not None:
            headers = dict(sign.headers(body, event_id, int(time.time()) + ts_offset))  # type: ignore[attr-defined]
        return send(run.url + "/webhooks/payments/orders", body, headers).code

    with target_with_output("--sign", scheme, *extra, env={SECRET_ENV: secret}) as run:
        with open(f"/proc/{run.pid}/cmdline", "rb") as f:
            assert secret.encode() not in f.read()  # not in a process listing
        order = contract.new_order()
        assert deliver("created", order) == 202  # the right secret
        assert deliver("updated", order, sign=wrong) == 401  # a wrong secret
        assert deliver("updated", order, ts_offset=-301) == 401  # stale
        assert deliver("updated", order, ts_offset=+400) == 401  # from the future
        assert deliver("updated", order, sign=None) == 401  # no signature at all
        assert deliver("updated", order) == 202  # still fine after all that
        stats = get_json(run.url + "/stats")
        stats_text = send(run.url + "/stats").body.decode()
        metrics = send(run.url + "/metrics").body.decode()
    assert stats["signing"] == scheme
    assert stats["received"]["orders"] == {"202": 2, "401": 4}
    assert stats["signature_failures"] == {"mismatch": 1, "stale": 2, "missing": 1}
    assert stats["signature_failures_total"] == 4
    assert 'ingest_signature_failures_total{reason="stale"} 2' in metrics
    for text in (stats_text, metrics, run.stdout, run.stderr):
        assert secret not in text and secret.removeprefix("whsec_") not in text


@pytest.mark.parametrize("size", [1, 32, 63, 64, 65, 200])
def test_the_signers_hmac_equals_the_stdlib_one(size: int) -> None:
    """The signers' precomputed HMAC (the hot path's) against ``hmac.new``, for
    keys shorter than, as long as and longer than SHA-256's 64-byte block."""
    key = bytes(range(7, 7 + size % 250)) * (size // 250 + 1)
    key = key[:size]
    mac = _Sha256Hmac(key)
    for msg in (b"", b"1790000000.{}", bytes(range(256)) * 5):
        assert mac.hexdigest(msg) == hmac.new(key, msg, hashlib.sha256).hexdigest()
        assert mac.digest(msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_a_stripe_signature_made_in_one_second_differs_in_the_next() -> None:
    """The per-second prefix cache never reuses a previous second's prefix."""
    signer = StripeSigner("sk-1")
    verifier = StripeVerifier("sk-1")
    for ts in (1_790_000_000, 1_790_000_000, 1_790_000_001, 1_789_999_999):
        ((name, value),) = signer.headers(b'{"a":1}', "evt", ts)
        assert value.startswith(f"t={ts},v1=")
        assert verifier.verify({name: value}, b'{"a":1}', ts) is None
        block = signer.header_block(b'{"a":1}', "evt", ts)
        assert block == f"{name}: {value}\r\n".encode()


@pytest.mark.parametrize(
    ("signed", "headers"),
    [
        ("{id}:{timestamp}:{body}", {"X-Sig": "id={id},t={timestamp},s={sig}"}),
        ("{url}|{body}", {"X-Twice": "{id}/{id}", "X-At": "at {timestamp}", "X-Sig": "{sig}."}),
        (
            "{timestamp}.{body}.{id}",
            {"X-Id": "{id}", "X-Sig": "{timestamp};{sig}"},
        ),  # text after the body
    ],
)
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_a_file_schemes_signing_matches_the_general_path(
    signed: str, headers: dict[str, str], encoding: str
) -> None:
    """Shapes no built-in has (an {id} inside the signature header, two {id}s in
    one header, text after the body) sign as the general path does, whichever
    path a second is compiled to."""
    spec = scheme_from_table(
        {
            "name": "mine",
            "signed": signed,
            "algorithm": "sha512",
            "encoding": encoding,
            "key": "text",
            "timestamp": "unix",
            "headers": headers,
        }
    )
    signer = SchemeSigner(spec, "k3y")
    for ts, event_id in [(NOW, "e1"), (NOW, "e2"), (NOW + 1, "e%2")]:
        got = signer.pairs(b'{"a": 1}', event_id, ts, "http://a/x")
        assert got == signer._general(b'{"a": 1}', event_id)
        assert dict(got)["X-Sig"]


@pytest.mark.parametrize("scheme", ["square", "standard"])
def test_alternating_urls_in_one_second_sign_as_a_fresh_signer_each(scheme: str) -> None:
    """A run's journeys alternate endpoints: a scheme that signs the URL keeps
    each URL's state for the second (not formatted and compiled again at each
    change), and signs every request as a signer new to that URL would; a new
    second starts over."""
    secret = SW_SECRET if builtin(scheme).key == "whsec-base64" else "k3y"
    signer = make_signer(scheme, secret)
    assert isinstance(signer, SchemeSigner)
    kept: dict[str, object] = {}
    for ts in (NOW, NOW, NOW + 1):
        for url in ("http://a/orders", "http://a/chargebacks", "http://a/orders"):
            got = signer.pairs(b'{"a": 1}', "evt_1", ts, url)
            assert got == make_signer(scheme, secret).pairs(b'{"a": 1}', "evt_1", ts, url)
            if scheme == "square" and ts == NOW:
                assert kept.setdefault(url, signer._fast) is signer._fast  # kept, not made again


@pytest.mark.parametrize(
    ("scheme", "secrets"),
    # two secrets only where the scheme joins several signatures (a rolling secret)
    [(s, n) for n in (1, 2) for s in SCHEMES if n == 1 or builtin(s).join],
)
def test_a_dressing_keeps_the_seconds_function_and_signs_as_the_signer(
    scheme: str, secrets: int
) -> None:
    """A delivery's dressing calls the signer's function bound for the current
    second (and URL): across seconds, URLs, ids and a second rolling back, it
    gives the event's headers then exactly the signer's own for that moment,
    on the compiled path (one secret) and the general one (two)."""
    one = SW_SECRET if builtin(scheme).key == "whsec-base64" else "k3y"
    secret = "\n".join([one] * secrets)
    clock = [NOW + 0.25]
    dressing = Dressing((), make_signer(scheme, secret), lambda: clock[0])
    for t, event_id, url in [
        (NOW + 0.25, "evt_1", "http://a/orders"),
        (NOW + 0.75, "evt_2", "http://a/chargebacks"),
        (NOW + 0.99, "evt_2", "http://a/orders"),
        (NOW + 1.0, "evt_3", "http://a/orders"),
        (NOW + 0.5, "evt_4", "http://a/chargebacks"),  # the wall clock stepped back
    ]:
        clock[0] = t
        event = Event(event_id, (("X-Own", "1"),), b'{"a": 1}')
        got = dressing.headers(event, url)
        fresh = make_signer(scheme, secret).headers(event.body, event_id, int(t), url)
        assert got == (("X-Own", "1"), *fresh)
