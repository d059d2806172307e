"""Is the target reachable at all? Answered within 2 s, before any load.

An ``https://`` target also gets a TLS handshake, verified as the transports
verify (the system's trust store; there is no ``--insecure``): a plain-HTTP
port behind an ``https://`` URL would otherwise pass and every request fail.
An ``http://`` target stays TCP-only: a TLS server says nothing until the
client speaks, so telling one apart would take sending it a request.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import anyio
from anyio.abc import ByteStream
from anyio.streams.tls import TLSStream

from engine.domain.sanitize import shown_url
from engine.errors import EXIT_UNREACHABLE, WebhookloadError


class TargetUnreachable(WebhookloadError):
    """The target refused or did not answer (exit 3); ``str()`` is the user's message.
    ``hint`` replaces the advice to start the service where the service is there
    but does not speak what the URL says (TLS)."""

    default_exit_code = EXIT_UNREACHABLE

    def __init__(self, target: str, reason: str, *, what: str = "", hint: str = "") -> None:
        self.target = target
        self.reason = reason
        self.hint = hint
        shown = shown_url(target)  # a token in its query: the name only
        if what:  # another service the run needs, e.g. the read API
            message = f"cannot reach {what} at {shown} ({reason})"
        else:
            message = f"cannot reach target {shown} ({reason})"
        if hint:
            message += f": {hint}"
        elif not what:
            message += (
                ". Start your receiver there, or try --target builtin (the embedded "
                "reference target: it receives the built-in scenarios and most files)."
            )
        super().__init__(message)


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "localhost", port


async def check_reachable(url: str, limit_s: float = 1.5) -> None:
    """Open (and close) one TCP connection to the target, with a TLS handshake
    for ``https://``, or raise TargetUnreachable."""
    host, port = host_port(url)
    tls = urlsplit(url).scheme == "https"
    stream: ByteStream | None = None
    try:
        with anyio.fail_after(limit_s):
            stream = await anyio.connect_tcp(host, port)
            if tls:
                ctx = ssl.create_default_context()  # as the transports: verified
                stream = await TLSStream.wrap(stream, hostname=host, ssl_context=ctx)
    except TimeoutError:
        if stream is None:
            raise TargetUnreachable(url, f"no answer within {limit_s:g}s") from None
        reason = f"TLS handshake failed: no answer within {limit_s:g}s"
        raise TargetUnreachable(url, reason, hint=_plain_http_hint(url)) from None
    except ssl.SSLCertVerificationError as exc:
        detail = exc.verify_message or exc.reason or "not trusted"
        reason = f"TLS certificate not trusted: {detail}"
        hint = "webhookload verifies it against this machine's trust store (no --insecure)"
        raise TargetUnreachable(url, reason, hint=hint) from None
    except (ssl.SSLError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
        reason = f"TLS handshake failed: {_ssl_detail(exc)}"
        raise TargetUnreachable(url, reason, hint=_plain_http_hint(url)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise TargetUnreachable(url, reason.lower()) from None
    finally:
        if stream is not None:
            await anyio.aclose_forcefully(stream)


def _plain_http_hint(url: str) -> str:
    return f"is it plain http? Then use http{url[len('https') :]}"


def _ssl_detail(exc: BaseException) -> str:
    """OpenSSL's reason (``wrong version number``), or how the connection ended."""
    cause = exc if isinstance(exc, ssl.SSLError) else exc.__cause__
    if isinstance(cause, ssl.SSLError) and cause.reason:
        return cause.reason.lower().replace("_", " ")
    return "the connection closed"
