"""Is the target reachable at all? Answered within 2 s, before any load."""

from __future__ import annotations

from urllib.parse import urlsplit

import anyio

from engine.errors import EXIT_UNREACHABLE, WebhookloadError


class TargetUnreachable(WebhookloadError):
    """The target refused or did not answer (exit 3); ``str()`` is the user's message."""

    default_exit_code = EXIT_UNREACHABLE

    def __init__(self, target: str, reason: str, *, what: str = "") -> None:
        self.target = target
        self.reason = reason
        if what:  # another service the run needs, e.g. the read API
            message = f"cannot reach {what} at {target} ({reason})"
        else:
            message = (
                f"cannot reach target {target} ({reason}). Start the ingest service there, "
                "or use --target builtin to run against the embedded reference target."
            )
        super().__init__(message)


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "localhost", port


async def check_reachable(url: str, limit_s: float = 1.5) -> None:
    """Open (and close) one TCP connection to the target, or raise TargetUnreachable."""
    host, port = host_port(url)
    try:
        with anyio.fail_after(limit_s):
            stream = await anyio.connect_tcp(host, port)
    except TimeoutError:
        raise TargetUnreachable(url, f"no answer within {limit_s:g}s") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise TargetUnreachable(url, reason.lower()) from None
    await stream.aclose()
