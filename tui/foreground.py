"""Is this process in the terminal's foreground? The TUI needs to be.

Plain ``timeout`` (without ``--foreground``) runs its command in a process
group of its own, in the terminal's background: the first time Textual sets
the terminal's modes (``tcsetattr``) or reads a key, the kernel stops the whole
group (SIGTTOU, SIGTTIN). The app then sat stopped on a blank screen, and
``timeout``'s SIGTERM never got acted on: only SIGKILL ended it. Asking is
safe from the background: ``tcgetpgrp`` and ``isatty`` do not stop a process
(only changing the terminal or reading from it does), and a write to stderr
is allowed unless ``stty tostop`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

TERMINAL_FDS = (0, 1, 2)
"""Textual reads keys on stdin and draws on stderr; the summary goes to stdout."""
BACKGROUND = (
    "the TUI needs the terminal's foreground (run under 'timeout --foreground', or use --no-ui)"
)


def in_background(fds: Sequence[int] = TERMINAL_FDS) -> bool:
    """True when one of ``fds`` is this process's controlling terminal and
    another process group is its foreground: Textual would be stopped there.
    A terminal that is not ours (``tcgetpgrp`` fails) cannot stop us."""
    for fd in fds:
        try:
            if os.isatty(fd) and os.tcgetpgrp(fd) != os.getpgrp():
                return True
        except OSError:  # closed, or not our controlling terminal: no job control
            continue
    return False
