"""Messages between the engine worker and the app, in one place.

The worker never touches widgets: it posts these, and the app reacts. Live
numbers do not travel as messages at all; a 2 Hz timer reads the latest.
"""

from __future__ import annotations

from textual.message import Message

from engine.errors import EXIT_FAILED
from engine.run.runner import RunResult


class RunFinished(Message):
    """The run ended (deadline, stop, or interrupt) with its result; or a shard
    died (``lost``: the error's text, ``code``: its exit code) and ``result`` is
    what was measured until then."""

    def __init__(self, result: RunResult, lost: str | None = None, code: int = EXIT_FAILED) -> None:
        super().__init__()
        self.result = result
        self.lost = lost
        self.code = code


class RunFailed(Message):
    """The run could not start or broke; ``text`` is shown to the user, and
    ``code`` is the exit code ``--no-ui`` gives the same failure."""

    def __init__(self, text: str, code: int = EXIT_FAILED) -> None:
        super().__init__()
        self.text = text
        self.code = code
