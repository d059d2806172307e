"""Delivery policies as data: what a provider does when a webhook is not
accepted, declared in a small TOML table instead of code (docs/DELIVERY.md).

A policy says which answers the provider counts as delivered (``success``:
codes or classes, ``2xx`` for every built-in one; a 3xx is a failure), how
long it waits for one (``timeout``), when it sends a failed webhook again
(``retry``: the waits before each retry, as a list or as ``count`` retries
spread ``over`` a span) and the headers a retry adds (``retry_headers``,
templates over ``{attempt}`` and ``{reason}``: Slack's ``X-Slack-Retry-Num``).
A provider that retries nothing may say how its failed webhooks are sent
again instead (``redelivery``, the same shape as ``retry``: GitHub's
redeliveries, asked for by the receiver's owner or a script its docs
publish); ``--retries`` plays those, and says so, where there are no retries.
The built-in ones are the ``*.toml`` files beside this module (package data);
a scenario file names one (``[delivery] policy = "shopify"``) or writes its
own table, checked by the same :func:`policy_from_table`.

Validation happens once, here: the retry loop (engine/scenario/retry.py)
only reads numbers and pre-split templates. Errors name the key path
(``delivery.retry.over``) and what is expected, in one line.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from engine.domain.durations import format_duration, parse_duration

RETRY_FIELDS = frozenset({"attempt", "reason"})
"""What a retry header's template may say: the retry's number (1 for the first
retry) and why the previous attempt failed (:data:`REASONS`)."""
REASONS = {"timeout": "http_timeout", "connect": "connection_failed"}
"""``{reason}`` by the transport error's kind; an answer is ``http_error`` and
any other failure ``unknown_error`` (Slack's words, its retry reasons)."""
PROVIDER_ANSWERS = "provider_answers"
"""The ``delivery`` counter of webhook answers (any status, retries too) timed
against a policy's timeout: the share's denominator (engine/scenario/send.py)."""
PROVIDER_TIMEOUTS = "provider_timeouts"
"""The ``delivery`` counter of those answers that took longer than the policy's
timeout: the provider would have counted them failed (and retried them)."""
BACKOFFS = ("exponential", "even")
POLICY_KEYS = frozenset(
    {"name", "provider", "source", "success", "timeout", "retry", "redelivery", "retry_headers"}
)
_RETRY_KEYS = frozenset({"schedule", "count", "over", "backoff", "max"})
_CLASSES = ("1xx", "2xx", "3xx", "4xx")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_NAME = re.compile(r"[a-z0-9][a-z0-9/_-]*")
_REPEAT = re.compile(r"^(?P<wait>[^*]+)\*(?P<times>\d+)$")
MAX_RETRIES = 1000
"""No schedule holds more retries than this (a typo like ``1h*7200`` is refused)."""


class PolicyError(ValueError):
    """A policy table that cannot be used; the message names the key path and
    what is expected (the scenario loader adds the file and line)."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(f"{'.'.join(path)}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Policy:
    """One provider's delivery policy, validated (build it with :func:`policy_from_table`)."""

    name: str
    provider: str  # how the outputs name it: "Shopify's 5 s"
    source: str = ""  # where its facts come from
    success: tuple[int | str, ...] = ("2xx",)
    timeout: float | None = None  # seconds; None: the provider states none
    schedule: tuple[float, ...] = ()  # the wait before each retry, in seconds
    retry_headers: tuple[tuple[str, str], ...] = ()  # (name, template)
    # a provider that retries nothing: the wait before each redelivery its docs
    # tell the receiver's owner to ask for (GitHub); never beside a schedule
    redelivery: tuple[float, ...] = ()

    @property
    def resends(self) -> tuple[float, ...]:
        """What ``--retries`` plays: the provider's retries, or where it has none
        its documented redeliveries."""
        return self.schedule or self.redelivery

    @property
    def resend_word(self) -> str:
        """``retries`` or ``redeliveries``: what :attr:`resends` are, in outputs."""
        return "redeliveries" if self.redelivery and not self.schedule else "retries"

    def succeeds(self, status: int) -> bool:
        """Whether the provider counts this answer as delivered (a 5xx never)."""
        if status >= 500:
            return False
        return any(
            rule == status or (isinstance(rule, str) and status // 100 == int(rule[0]))
            for rule in self.success
        )

    def success_table(self) -> tuple[bool, ...]:
        """:meth:`succeeds` for every status 0..999: one index on the hot path."""
        return tuple(self.succeeds(s) for s in range(1000))

    def scaled(self, speed: float) -> tuple[float, ...]:
        """:attr:`resends` played ``speed`` times faster (``--retry-speed``)."""
        return tuple(w / speed for w in self.resends)

    def describe_schedule(self, speed: float = 1.0, limit: int | None = None) -> str:
        """``56s, 1m53s, …`` (the first ``limit`` waits of :attr:`resends`,
        ``speed`` times faster); a long one is cut to its first and last few."""
        waits = [format_duration(w) for w in self.scaled(speed)[:limit]]
        if len(waits) > 9:
            waits = [*waits[:4], f"… ({len(waits) - 7} more) …", *waits[-3:]]
        return ", ".join(waits) if waits else "none"

    def as_table(self) -> dict[str, object]:
        """The policy as a TOML-shaped table (its schedule as a list): what
        :func:`policy_from_table` reads back, and what travels in a run's config."""
        table: dict[str, object] = {
            "name": self.name,
            "provider": self.provider,
            "source": self.source,
            "success": list(self.success),
            "retry": {"schedule": [format_seconds(w) for w in self.schedule]},
            "retry_headers": dict(self.retry_headers),
        }
        if self.redelivery:
            table["redelivery"] = {"schedule": [format_seconds(w) for w in self.redelivery]}
        if self.timeout is not None:
            table["timeout"] = format_seconds(self.timeout)
        return table


def format_seconds(seconds: float) -> str:
    """Seconds as a duration that parses back exactly (``0.25s``, ``14400.0s``,
    ``0.00001s``: the shortest repr, never in exponent form)."""
    return format(Decimal(repr(seconds)), "f") + "s"


def retry_reason(kind: str | None) -> str:
    """``{reason}`` of a retry: ``http_error`` after an answer (``kind`` None),
    else by the transport error's kind."""
    if kind is None:
        return "http_error"
    return REASONS.get(kind, "unknown_error")


def _duration(value: object, path: tuple[str, ...], allow_zero: bool = True) -> float:
    if not isinstance(value, str):
        raise PolicyError(path, 'expected a duration like "5s", "30m" or "2h"')
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise PolicyError(
            path, f'expected a duration like "5s", "30m" or "2h", got {value!r}'
        ) from None
    if not allow_zero and seconds <= 0:
        raise PolicyError(path, f"expected a duration above 0, got {value!r}")
    return seconds


def _success(value: object, path: tuple[str, ...]) -> tuple[int | str, ...]:
    if not isinstance(value, list) or not value:
        raise PolicyError(path, 'expected a list of codes or classes, like ["2xx"]')
    rules: list[int | str] = []
    for i, rule in enumerate(value):
        if (isinstance(rule, str) and rule in _CLASSES) or (
            isinstance(rule, int) and not isinstance(rule, bool) and 100 <= rule <= 499
        ):
            rules.append(rule)
        else:
            raise PolicyError(
                (*path, str(i)),
                f"expected a status code 100-499 or a class '1xx'..'4xx' (a 5xx is never "
                f"a success), got {rule!r}",
            )
    return tuple(rules)


def _schedule(value: object, path: tuple[str, ...]) -> tuple[float, ...]:
    """``["0s", "1m", "1h*72"]``: each wait, ``W*N`` for N waits of W."""
    if not isinstance(value, list):
        raise PolicyError(path, 'expected a list of waits, like ["5s", "5m", "1h*3"]')
    waits: list[float] = []
    for i, item in enumerate(value):
        where = (*path, str(i))
        m = _REPEAT.match(item) if isinstance(item, str) else None
        if m is not None:
            waits += [_duration(m["wait"], where)] * int(m["times"])
        else:
            waits.append(_duration(item, where))
        if len(waits) > MAX_RETRIES:
            raise PolicyError(where, f"at most {MAX_RETRIES} retries")
    return tuple(waits)


def spread(count: int, over: float, backoff: str, cap: float | None = None) -> tuple[float, ...]:
    """``count`` waits adding up to ``over``: equal ones (``even``), or each twice
    the last (``exponential``), none above ``cap`` when one is given (the first
    wait is then found by bisection so that the capped waits still add up)."""
    if backoff == "even":
        return tuple(over / count for _ in range(count))

    def waits(first: float) -> list[float]:
        out = [first * 2.0**k for k in range(count)]
        return out if cap is None else [min(w, cap) for w in out]

    if cap is None:
        return tuple(waits(over / (2.0**count - 1)))
    lo, hi = 0.0, over
    for _ in range(200):  # sum(waits(first)) grows with first: bisect to the span
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(waits(mid)) < over else (lo, mid)
    return tuple(round(w, 3) for w in waits(hi))


def _retry(value: object, path: tuple[str, ...]) -> tuple[float, ...]:
    if not isinstance(value, Mapping):
        raise PolicyError(
            path,
            'expected a table: { schedule = ["5s", "5m"] } or { count = 8, over = "4h" }',
        )
    unknown = sorted(set(value) - _RETRY_KEYS)
    if unknown:
        raise PolicyError(
            (*path, unknown[0]), f"unknown key; expected one of {', '.join(sorted(_RETRY_KEYS))}"
        )
    if "schedule" in value:
        extra = sorted(set(value) - {"schedule"})
        if extra:
            raise PolicyError((*path, extra[0]), "left out with schedule (give one or the other)")
        return _schedule(value["schedule"], (*path, "schedule"))
    count = value.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_RETRIES:
        raise PolicyError(
            (*path, "count"), f"expected a number of retries 0-{MAX_RETRIES} (or a schedule)"
        )
    if count == 0:
        return ()
    over = _duration(value.get("over"), (*path, "over"), allow_zero=False)
    backoff = value.get("backoff", "exponential")
    if backoff not in BACKOFFS:
        raise PolicyError(
            (*path, "backoff"), f"expected one of {', '.join(BACKOFFS)}, got {backoff!r}"
        )
    cap = None
    if "max" in value:
        cap = _duration(value["max"], (*path, "max"), allow_zero=False)
        if backoff != "exponential":
            raise PolicyError((*path, "max"), "used with backoff = exponential")
        if cap * count < over:
            raise PolicyError(
                (*path, "max"),
                f"{count} waits of at most {format_duration(cap)} cannot span "
                f"{format_duration(over)}",
            )
    return spread(count, over, str(backoff), cap)


def _template(value: object, path: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise PolicyError(path, "expected a string template over {attempt} and {reason}")
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError:
        raise PolicyError(path, "unbalanced braces (write {{ for a literal brace)") from None
    for _, field, spec, conv in parts:
        if field is not None and (field not in RETRY_FIELDS or spec or conv):
            raise PolicyError(path, f"unknown placeholder {{{field}}}; use {{attempt}}, {{reason}}")
    return value


def policy_from_table(
    table: Mapping[str, object],
    path: tuple[str, ...] = (),
    base: Policy | None = None,
    name: str = "",
) -> Policy:
    """A checked :class:`Policy` from a parsed TOML table; every error names its
    key under ``path``. ``base``: a built-in policy the table's keys override
    (a scenario's ``policy = "shopify"`` beside its own keys)."""
    unknown = sorted(set(table) - POLICY_KEYS)
    if unknown:
        raise PolicyError(
            (*path, unknown[0]), f"unknown key; expected one of {', '.join(sorted(POLICY_KEYS))}"
        )
    got = table.get("name", base.name if base else name)
    if not isinstance(got, str) or not _NAME.fullmatch(got):
        raise PolicyError((*path, "name"), "expected a lower-case name like my-provider")
    provider = table.get("provider", base.provider if base else got)
    source = table.get("source", base.source if base else "")
    for key, text in (("provider", provider), ("source", source)):
        if not isinstance(text, str):
            raise PolicyError((*path, key), "expected a string")
    assert isinstance(provider, str) and isinstance(source, str)
    success = _success(table["success"], (*path, "success")) if "success" in table else None
    timeout = (
        _duration(table["timeout"], (*path, "timeout"), allow_zero=False)
        if "timeout" in table
        else None
    )
    schedule = _retry(table["retry"], (*path, "retry")) if "retry" in table else None
    redelivery = (
        _retry(table["redelivery"], (*path, "redelivery")) if "redelivery" in table else None
    )
    headers: tuple[tuple[str, str], ...] | None = None
    if "retry_headers" in table:
        raw = table["retry_headers"]
        if not isinstance(raw, Mapping):
            raise PolicyError((*path, "retry_headers"), "expected a table of header = template")
        pairs = []
        for header, value in raw.items():
            where = (*path, "retry_headers", header)
            if not _TOKEN.fullmatch(header):
                raise PolicyError(where, "not an HTTP header name")
            pairs.append((header, _template(value, where)))
        headers = tuple(pairs)
    schedule = schedule if schedule is not None else (base.schedule if base else ())
    if redelivery is None:  # a base's redeliveries stand only where nothing retries
        redelivery = base.redelivery if base and not schedule else ()
    if redelivery and schedule:
        key = "redelivery" if "redelivery" in table else "retry"
        raise PolicyError(
            (*path, key),
            f"redelivery is for a provider that retries nothing; this one retries "
            f"{len(schedule)} times (--retries plays those)",
        )
    return Policy(
        name=got,
        provider=provider,
        source=source,
        success=success if success is not None else (base.success if base else ("2xx",)),
        timeout=timeout if "timeout" in table else (base.timeout if base else None),
        schedule=schedule,
        retry_headers=headers if headers is not None else (base.retry_headers if base else ()),
        redelivery=redelivery,
    )


def load_policy(text: str, where: str) -> Policy:
    """A policy from the text of a TOML file (``where`` names it in errors)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError((), f"{where}: {exc}") from None
    try:
        return policy_from_table(table)
    except PolicyError as exc:
        raise PolicyError((), f"{where}: {exc}") from None


@cache
def builtin_names() -> tuple[str, ...]:
    """The built-in policies' names, sorted (the ``*.toml`` files of this package)."""
    files = resources.files(__name__).iterdir()
    return tuple(sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")))


@cache
def builtin(name: str) -> Policy:
    """A built-in policy by name; ``ValueError`` naming the choices otherwise."""
    if name not in builtin_names():
        raise ValueError(
            f"unknown delivery policy {name!r}; expected one of {', '.join(builtin_names())}"
        )
    path = resources.files(__name__).joinpath(f"{name}.toml")
    policy = load_policy(path.read_text(encoding="utf-8"), f"{name}.toml")
    if policy.name != name:
        raise PolicyError((), f"{name}.toml: name: expected {name!r}, the file's name")
    return policy
