"""``python -m engine.shards.worker_main``: a shard process's entry point.

A module of its own, which nothing imports: ``-m engine.shards.worker`` ran a
module that ``import engine`` had already imported, and runpy warned about it on
stderr, which then ended every dead shard's message (``killed by SIGKILL: ...
RuntimeWarning: 'engine.shards.worker' found in sys.modules``).
"""

from __future__ import annotations

import sys

from engine.shards.worker import main

if __name__ == "__main__":
    main(sys.argv[1:])
