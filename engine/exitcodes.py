"""Exit codes of ``webhookload-tui``, shared by ``--no-ui`` and the TUI.

One table, so a script that runs the TUI with ``--autostart --exit-on-finish``
and one that runs ``--no-ui`` read the same outcome from the same number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.runner import RunResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_UNVERIFIED = 4
EXIT_INTERRUPTED = 130


def exit_code_for(result: RunResult) -> int:
    """The exit code a finished run ends with (failures before any load have their own)."""
    if result.stopped:
        return EXIT_INTERRUPTED
    if result.verification is not None and not result.verification.ok:
        return EXIT_UNVERIFIED
    return EXIT_OK
