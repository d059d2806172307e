"""Open-file limits: every connection is a file descriptor.

A default ``ulimit -n`` of 1024 caps a run near a thousand connections, and
past it the only sign was connect errors (``EMFILE``), read as the service's
fault. So, as wrk and k6 users expect, the soft limit is raised to the hard
limit at start (no privilege needed; processes we spawn inherit it), and when
the run still needs more than it allows, one warning line names the limit
and the flag. A warning, not a refusal: a closed model with think time or a
rate whose journeys end fast may never hold every connection at once, and
the connect errors are then counted and shown; the line says what they mean.
"""

from __future__ import annotations

import math
import resource

from engine.config import RunConfig, peak_vus

FD_RESERVE = 64
"""Descriptors a run uses besides its connections: the event loop, pipes to
shards and the builtin target, the read API's client, logs, DNS."""
UNCAPPED_SOFT = 1 << 20
"""The soft limit asked for when the hard limit is unlimited (the kernel caps it)."""


def raise_nofile_limit() -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; return the soft limit now
    (unchanged when the system refuses)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = UNCAPPED_SOFT if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):  # e.g. above the kernel's nr_open: keep the old one
            return soft
        return want
    return soft


def connections_per_process(config: RunConfig) -> int:
    """Connections one engine process may hold at once: its share of ``--vus``
    (the stages' peak) or, with ``--rate``, of ``--max-inflight``."""
    total = config.max_inflight if config.rate else peak_vus(config)
    return math.ceil(total / max(1, config.workers))


def fd_warning(config: RunConfig, soft: int) -> str | None:
    """One line when the run needs more descriptors than ``soft`` allows, else None."""
    if soft == resource.RLIM_INFINITY:
        return None
    need = connections_per_process(config) + FD_RESERVE
    if need <= soft:
        return None
    if config.rate:
        flag = f"--max-inflight {config.max_inflight}"
    elif config.stages:
        flag = f"--stages (peak {peak_vus(config)} VUs)"
    else:
        flag = f"--vus {config.vus}"
    per = " per worker process" if config.workers > 1 else ""
    return (
        f"warning: {flag} needs about {need} open files{per}, over the open-file limit"
        f" of {soft} (ulimit -n, already raised to the hard limit): connections past it"
        f" fail as connect errors; raise the hard limit (ulimit -Hn), lower"
        f" {flag.split()[0]} or spread the load over more --workers (each has its own limit)"
    )
