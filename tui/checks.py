"""Checks across the CLI's flags that ``build_config`` cannot make: it sees the
config, not which flags were typed (the TUI form's empty fields are normal).
A flag without the flag it needs is refused, not ignored, as ``--secret``
without ``--sign`` is."""

from __future__ import annotations

import argparse
import os

from engine.config import ConfigError, RunConfig


def check_partners(ns: argparse.Namespace, config: RunConfig) -> None:
    """Refuse a flag given without the flag it needs, as ``--secret`` without
    ``--sign`` is, rather than ignore it; and two outputs in one file (the last
    one written would silently replace the other)."""
    if ns.signature_header is not None and not config.sign:
        raise ConfigError("signature-header", "used with --sign stripe", ns.signature_header)
    if ns.verify_wait is not None and not config.verify:
        raise ConfigError("verify-wait", "used with --verify N", ns.verify_wait)
    seen: dict[str, str] = {}
    for flag in ("json", "report", "timeline"):
        path = getattr(ns, flag)
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise ConfigError(flag, f"a different file from --{seen[real]}", path)
        seen[real] = flag
