"""What the TUI leaves on the terminal once it has closed, as oha does.

The same summary block as ``--no-ui`` (and ``make record``'s cast ends on it);
the reason a run could not start goes to stderr.
"""

from __future__ import annotations

import sys
from typing import Protocol

from engine.outputs.summary import result_lines
from engine.outputs.thresholds import Abort
from engine.run.runner import RunResult


class Outcome(Protocol):
    """What the app knows once it has closed (see ``WebhookLoadApp``)."""

    @property
    def result(self) -> RunResult | None: ...

    @property
    def saved_json(self) -> str | None: ...

    @property
    def failure(self) -> str | None: ...

    @property
    def abort(self) -> Abort | None: ...


def summary_block(result: RunResult, abort: Abort | None = None) -> list[str]:
    """The lines ``--no-ui`` prints at the end of a run."""
    return result_lines(result, abort)


def print_outcome(app: Outcome) -> None:
    """The last run's summary on stdout, or why nothing ran on stderr."""
    try:
        if app.result is not None:
            print("\n".join(summary_block(app.result, app.abort)), flush=True)
            if app.saved_json:
                print(f"JSON summary written to {app.saved_json}", file=sys.stderr, flush=True)
            if app.failure:  # a shard died: the summary above is what it measured
                print(f"webhookload-tui: {app.failure}", file=sys.stderr, flush=True)
        elif app.failure:
            print(f"webhookload-tui: {app.failure}", file=sys.stderr, flush=True)
    except OSError:  # the terminal hung up: nobody is left to read it
        pass
