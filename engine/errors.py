"""Exit codes of ``webhookload-tui``, shared by ``--no-ui`` and the TUI.

One table, so a script that runs the TUI with ``--autostart --exit-on-finish``
and one that runs ``--no-ui`` read the same outcome from the same number.

When several apply, the first of: interrupted (130; the user chose to end
it), no request succeeded (5; nothing else about the run means much then),
``--verify`` found orders not applied (4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.run.runner import RunResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_UNVERIFIED = 4
EXIT_NO_SUCCESS = 5
EXIT_INTERRUPTED = 130


def exit_code_for(result: RunResult) -> int:
    """The exit code a finished run ends with (failures before any load have their own)."""
    if result.stopped:
        return EXIT_INTERRUPTED
    if result.total.success == 0:
        return EXIT_NO_SUCCESS
    if result.verification is not None and not result.verification.ok:
        return EXIT_UNVERIFIED
    return EXIT_OK
