"""``webhookload-tui`` without ``--no-ui``: the app in this terminal, then,
once the terminal is restored, the same summary block as ``--no-ui`` and the
same exit code (``engine/errors.py``)."""

from __future__ import annotations

import sys
from collections.abc import Collection

from engine.config import RunConfig
from engine.errors import EXIT_USAGE, WebhookloadError
from engine.outputs.extras import MetricsEndpoint, OutputOptions
from engine.outputs.jsonfile import check_json_path
from engine.run.loop import new_event_loop
from tui.app import WebhookLoadApp
from tui.outcome import print_outcome
from tui.results import SessionOutputs


def run_app(
    config: RunConfig,
    *,
    json_path: str | None = None,
    autostart: bool = False,
    exit_on_finish: bool = False,
    outputs: OutputOptions | None = None,
    given: Collection[str] = (),
) -> int:
    """Run the app; then, on the restored terminal, what ``--no-ui`` would print."""
    if json_path is not None and (problem := check_json_path(json_path)):
        print(
            f"webhookload-tui: error: --json must be {problem}, got {json_path!r}", file=sys.stderr
        )
        return EXIT_USAGE
    options = outputs or OutputOptions()
    try:  # bound (or refused: exit 2) before the screen opens; tui/results.py says why here
        metrics = MetricsEndpoint(options.metrics_addr, config) if options.metrics_addr else None
    except WebhookloadError as exc:
        print(f"webhookload-tui: error: {exc}", file=sys.stderr)
        return exc.exit_code
    session = SessionOutputs(options, metrics)
    app = WebhookLoadApp(
        config,
        json_path=json_path,
        autostart=autostart,
        exit_on_finish=exit_on_finish,
        handle_signals=True,
        outputs=session,
        given=given,
    )
    # The engine runs in its own process (engine/shards/worker.py); this loop only renders.
    try:
        code = app.run(loop=new_event_loop())
    finally:
        session.close()
    print_outcome(app)
    if code is None:  # Textual's own exit: a crash (1) or none of ours
        return app.return_code or app.exit_code
    return code
