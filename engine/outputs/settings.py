"""A run's settings for people: one way to show a value, in every output.

The ``--json`` summary keeps the config as data (``null``, lists, numbers);
what a person reads (the HTML report's Settings table, compare's notes) goes
through :func:`format_setting`, so none shows a Python repr (``None``,
``('p99<1s',)``) and a value reads the same wherever it appears.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

BUILTIN = "builtin"


def format_setting(value: Any) -> str:
    """``-`` for none (None, "", an empty list), ``on``/``off`` for a flag,
    ``a, b`` for a list, ``0.3`` for a number."""
    if value is None or value == "" or value == () or value == []:
        return "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_setting(v) for v in value)
    return str(value)


def setting_rows(config: Mapping[str, Any], target_url: str = "") -> Iterator[tuple[str, str]]:
    """(name, text) for every setting; ``--target builtin`` with the URL it ran on."""
    for key, value in config.items():
        text = format_setting(value)
        if key == "target" and value == BUILTIN and target_url:
            text = f"{target_url} (builtin reference target)"
        yield key, text
