"""One error family and one table of exit codes, for every front end.

Every failure a user can meet before or outside a run's numbers is a
:class:`WebhookloadError`: it carries its exit code and a one-line message,
so the CLI, ``--no-ui``, the worker process and the TUI map errors the same
way (print ``webhookload-tui: {exc}``, exit with ``exc.exit_code``) instead of
each keeping an ``except`` ladder of its own. A finished run's exit code is
judged from its result (:func:`engine.outputs.verdict.exit_code_for`).

When several apply to a finished run, the first of: interrupted (130; the
user chose to end it; 143 when SIGTERM did), a ``--threshold`` failed (99, k6's code, which CI
scripts already know; also when ``--abort-on-fail`` ended the run, which is
the thresholds' verdict, not an interrupt), no request succeeded (5; nothing
else about the run means much then), ``--verify`` found sampled orders or
disputes not in the status the run drove them to (4).
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_UNVERIFIED = 4
EXIT_NO_SUCCESS = 5
EXIT_SHARD_LOST = 6
"""``--workers``/``--backend ray``: a shard died mid-run; the others were stopped."""
EXIT_THRESHOLDS = 99
EXIT_REGRESSION = EXIT_THRESHOLDS
"""``compare --max-regression``: the same gate code as a failed threshold."""
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
"""128 + SIGTERM: ``--no-ui`` stopped by SIGTERM (``kill``, ``timeout``, ``docker stop``)
as Ctrl+C stops it (summary and outputs kept); ranks with 130."""


class WebhookloadError(Exception):
    """A failure with a one-line message (``str()``) and the exit code it ends with.

    Subclasses set ``default_exit_code``; ``exit_code=`` overrides it for an
    error that crossed a process boundary (a shard reports the code it would
    have exited with)."""

    default_exit_code: ClassVar[int] = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = self.default_exit_code if exit_code is None else exit_code

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle as class, message, code and attributes: subclasses take other
        constructor arguments than the message, so rebuild without calling them."""
        return (_rebuild, (type(self), str(self), self.exit_code), self.__dict__)


def _rebuild(cls: type[WebhookloadError], message: str, exit_code: int) -> WebhookloadError:
    err = cls.__new__(cls)
    WebhookloadError.__init__(err, message, exit_code=exit_code)
    return err


class UsageError(WebhookloadError):
    """Bad arguments: exit 2, one line naming the flag and what is expected."""

    default_exit_code = EXIT_USAGE
