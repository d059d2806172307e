"""The finished run's keys, `j` (JSON) and `h` (HTML report), apart from the
app's screen logic: :class:`SavingApp` is the app's base class and needs only
the last result, its abort, and where ``--json`` points."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.app import App

from engine.errors import WebhookloadError
from engine.outputs.jsonfile import check_json_path, write_json
from engine.outputs.summary import result_json
from engine.outputs.thresholds import Abort
from engine.run.runner import RunResult
from tui.results import SessionOutputs
from tui.widgets import SummaryPanel

RESULTS_DIR = "webhookload-results"  # where `j` saves without --json (git-ignored)


class SavingApp(App[int]):
    """Saves the last finished run; the app sets these attributes."""

    result: RunResult | None
    json_path: str | None
    saved_json: str | None
    outputs: SessionOutputs

    @property
    def abort(self) -> Abort | None:
        """Why --abort-on-fail stopped the last run (the app says)."""
        raise NotImplementedError

    def action_save_json(self) -> None:
        if self.result is None:
            self.notify("No finished run to save yet.", severity="warning")
            return
        path = self.json_path
        if path is None:
            try:
                Path(RESULTS_DIR).mkdir(exist_ok=True)
            except OSError as exc:
                self.notify(f"cannot create {RESULTS_DIR}/: {exc}", severity="error")
                return
            path = str(Path(RESULTS_DIR) / time.strftime("webhookload-%Y%m%d-%H%M%S.json"))
        if self._write_json(path):
            self.query_one(SummaryPanel).show_result(self.result, self.saved_json, self.abort)

    def _write_json(self, path: str) -> bool:
        assert self.result is not None
        problem = check_json_path(path)
        if problem:
            self.notify(f"--json must be {problem}, got {path!r}", severity="error")
            return False
        try:
            write_json(path, result_json(self.result, self.abort))
        except WebhookloadError as exc:
            self.notify(str(exc), severity="error")
            return False
        self.saved_json = path
        self.notify(f"JSON summary saved to {path}")
        return True

    async def action_save_report(self) -> None:
        """`h`: the last run's HTML report into webhookload-results/, as `j` does."""
        if self.result is None:
            self.notify("No finished run to report on yet.", severity="warning")
            return
        save = self.outputs.save_report
        try:  # plotly and ~5 MB of page: off the UI's loop
            path = await asyncio.to_thread(save, RESULTS_DIR, self.result, self.abort)
        except OSError as exc:
            self.notify(f"cannot write the report into {RESULTS_DIR}/: {exc}", severity="error")
            return
        self.notify(f"HTML report saved to {path}")
