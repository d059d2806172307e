"""``webhookload-tui``: flags, validation, exit codes; then the TUI or ``--no-ui``.

This module never imports Textual: ``--no-ui`` runs the engine with the plain
printer, and the app is imported only when the TUI is wanted.
"""

from __future__ import annotations

import os
import signal
import sys

NOT_A_TERMINAL = (
    "the TUI needs a terminal, and standard input or output is not one "
    "(a pipe, a file): add --no-ui for plain output"
)
INTERRUPTED = "webhookload-tui: interrupted (nothing was measured yet)"
TERMINATED = "webhookload-tui: terminated (nothing was measured yet)"


def _interrupted_early(signum: int, frame: FrameType | None) -> NoReturn:
    """Ctrl+C before a run handles it itself (the imports, the checks): one line
    and exit 130, not a KeyboardInterrupt traceback from wherever it landed.
    ``os._exit``: nothing is started yet, and an exception raised inside a C
    extension's import crashed the interpreter (SIGSEGV). SIGTERM likewise
    (exit 143), rather than a silent death with no line at all."""
    text = TERMINATED if signum == signal.SIGTERM else INTERRUPTED
    os.write(2, (text + "\n").encode())
    os._exit(128 + signum)


if __name__ == "__main__" or os.path.basename(sys.argv[0]) == "webhookload-tui":
    # before any other import, even the standard library's (a third of a second
    # of start-up in all): Python's KeyboardInterrupt raised inside an import's
    # weakref callback is "ignored", and the Ctrl+C was lost. Only when running
    # as the program, never in a process that merely imports this module.
    signal.signal(signal.SIGINT, _interrupted_early)
    signal.signal(signal.SIGTERM, _interrupted_early)

import argparse  # noqa: E402
import dataclasses  # noqa: E402
from types import FrameType  # noqa: E402
from typing import Any, NoReturn, TextIO, cast  # noqa: E402

from engine import workers_warning  # noqa: E402
from engine.config import (  # noqa: E402
    DERIVED,
    ConfigError,
    RunConfig,
    build_config,
    header_values,
)
from engine.domain.signing import SECRET_ENV  # noqa: E402
from engine.errors import EXIT_INTERRUPTED, EXIT_USAGE, WebhookloadError  # noqa: E402
from engine.outputs.extras import OutputOptions  # noqa: E402
from engine.run.fdlimit import fd_warning, raise_nofile_limit  # noqa: E402
from tui.checks import check_partners  # noqa: E402
from tui.flags import build_parser, normalize_argv  # noqa: E402
from tui.foreground import BACKGROUND, in_background  # noqa: E402
from tui.hangup import defer_signals  # noqa: E402


def output_options(ns: argparse.Namespace) -> OutputOptions:
    return OutputOptions(
        timeline=ns.timeline,
        report=ns.report,
        metrics_addr=ns.metrics_addr,
        metrics_linger=ns.metrics_linger,
    )


CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in DERIVED)
"""Every run setting is a flag of the same name (dashes for underscores); the
scenario file's derived fields are not (engine/scenario/select.py sets them)."""


def parse(argv: list[str]) -> tuple[argparse.Namespace, RunConfig]:
    """Parse and validate; a bad value exits 2 with one line naming the flag."""
    parser = build_parser()
    ns = parser.parse_args(normalize_argv(argv))
    if ns.secret is None and ns.sign is not None:
        # an inherited WEBHOOKLOAD_SECRET alone does not turn signing on
        ns.secret = os.environ.get(SECRET_ENV) or None
    try:
        if ns.stages is not None and not ns.stages.strip():
            # the form's empty field means "no stages"; an empty flag is a mistake
            raise ConfigError("stages", "stages like 30s:10,1m:100,30s:0, not empty", ns.stages)
        ns.headers = header_values(ns.headers, ns.header_files, os.environ)
        raw = {f: getattr(ns, f) for f in CONFIG_FIELDS}
        config = build_config(raw)
        if config.scenario:  # the file is read (and its checks imported) only when named
            from engine.scenario.select import with_scenario

            config = with_scenario(config, given_settings(ns))
        check_partners(ns, config)
        output_options(ns).check()
    except WebhookloadError as exc:
        parser.exit(exc.exit_code, f"{parser.prog}: error: {exc}\n")
    return ns, config


class _ReaderMayLeave:
    """Standard output that outlives its reader: once a write or flush finds the
    pipe closed (`... | head -3`), what follows goes to /dev/null and the
    program carries on. A run still writes its --json and --report and ends with
    its own exit code (a failed threshold's 99 is not hidden behind a broken
    pipe); Python alone raised BrokenPipeError at the next print, so a run lost
    its files and printed tracebacks."""

    def __init__(self, real: TextIO) -> None:
        self._real = real

    def write(self, text: str) -> int:
        try:
            return self._real.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._real.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._real.fileno())  # the buffer's rest, and the exit's flush
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def main(argv: list[str] | None = None) -> int:
    """The program; Ctrl+C outside a run's own handling exits 130 with one line."""
    real = sys.stdout
    sys.stdout = cast(TextIO, _ReaderMayLeave(real))
    try:
        return _main(argv)
    except KeyboardInterrupt:  # e.g. after the run's loop gave SIGINT back to Python
        print(INTERRUPTED.replace(" (nothing was measured yet)", ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        sys.stdout = real


def _main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["compare"]:
        from engine import compare_main

        return compare_main(args[1:])
    if args[:1] == ["scenarios"]:
        from engine import scenarios_main

        return scenarios_main(args[1:])
    ns, config = parse(args)
    # every connection is a file: raise the soft limit first (shards and the
    # builtin target inherit it), and say so when the run needs still more
    if warning := fd_warning(config, raise_nofile_limit()):
        print(f"webhookload-tui: {warning}", file=sys.stderr, flush=True)
    if config.backend == "process" and (warning := workers_warning(config.workers, os.cpu_count())):
        print(f"webhookload-tui: {warning}", file=sys.stderr, flush=True)
    if ns.no_ui:
        from tui.headless import run_headless

        return run_headless(config, json_path=ns.json, outputs=output_options(ns))
    if in_background():  # Textual would be stopped there (SIGTTOU): tui/foreground.py
        print(f"webhookload-tui: {BACKGROUND}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # `webhookload-tui ... | tail` wrote the screen's escapes into the pipe
        # and ran until killed: the TUI needs a terminal on both ends
        print(f"webhookload-tui: {NOT_A_TERMINAL}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    from tui.launch import run_app

    if signal.getsignal(signal.SIGINT) is _interrupted_early:
        # the screen may open now, and a KeyboardInterrupt raised inside Textual's
        # start-up left the terminal in the alternate screen and raw mode (or was
        # swallowed): the app acts on a signal remembered until then instead
        defer_signals()
    return run_app(
        config,
        json_path=ns.json,
        autostart=ns.autostart,
        exit_on_finish=ns.exit_on_finish,
        outputs=output_options(ns),
        given=given_settings(ns),
    )


def given_settings(ns: argparse.Namespace) -> frozenset[str]:
    """The settings the command line gave (they win over a scenario file's)."""
    return frozenset(f for f in CONFIG_FIELDS if getattr(ns, f) is not None)


if __name__ == "__main__":
    sys.exit(main())
