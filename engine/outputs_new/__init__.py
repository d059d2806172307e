"""Result outputs built on snapshot deltas: thresholds, a per-second timeline,
live Prometheus metrics, an HTML report and run-to-run comparison.

Each module only reads :class:`~engine.stats.Snapshot` values (or the JSON
summary), so any number of them can consume the same stream of deltas.
"""
