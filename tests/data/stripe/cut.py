"""Cut tests/data/stripe/ from Stripe's published OpenAPI schemas (run by hand).

    python tests/data/stripe/cut.py /work/shared/stripe-openapi

The source directory holds stripe/openapi's ``spec3.yaml`` component schemas
and ``fixtures3.json`` examples as JSON (README.md here names the commit).
Kept: ``event``, ``payment_intent``, ``dispute`` and every schema they
reference, after one cut: an expandable field (``x-expansionResources``, an
id string or the expanded object) keeps only its id form, because a webhook's
object never carries an expanded field (Stripe expands only on request).
Without the cut the closure is all 515 schemas (400 kB).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOTS = ("event", "payment_intent", "dispute")
HERE = Path(__file__).parent


def _prune(node: Any) -> Any:
    if isinstance(node, dict):
        if "x-expansionResources" in node and "anyOf" in node:
            node = {k: v for k, v in node.items() if k != "x-expansionResources"}
            node["anyOf"] = [a for a in node["anyOf"] if "$ref" not in a]
        return {k: _prune(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_prune(v) for v in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                found.add(v.rsplit("/", 1)[-1])
            else:
                _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def main(source: Path) -> None:
    spec = json.loads((source / "schemas.json").read_text())
    schemas = {k: _prune(v) for k, v in spec["components"]["schemas"].items()}
    keep: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in keep:
            keep.add(name)
            found: set[str] = set()
            _refs(schemas[name], found)
            todo.extend(found - keep)
    types = {t: s for t, s in spec["x-event-type-map"].items() if s in ROOTS}
    out = {
        "x-source": spec["x-source"],
        "x-cut": "tests/data/stripe/cut.py: event, payment_intent, dispute; expandables as ids",
        "x-event-type-map": types,
        "components": {"schemas": {k: schemas[k] for k in sorted(keep)}},
    }
    (HERE / "schemas.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    fixtures = json.loads((source / "fixtures.json").read_text())
    cut = {
        "x-source": fixtures["x-source"],
        "resources": {k: fixtures["resources"][k] for k in ROOTS},
    }
    (HERE / "fixtures.json").write_text(json.dumps(cut, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
