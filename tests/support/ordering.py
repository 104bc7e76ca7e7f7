"""The order the suite runs in: the longest modules first (issue 21: `make test` in minutes).

pytest-xdist hands the collected tests to its workers in collection order,
a batch at a time. Collected alphabetically, a long module late in the run
(a fuzzing module, the browser's pages) left one core busy and the other
idle for the last half-minute. Here the modules are ordered by their
recorded duration, longest first, so the run ends on short unit tests that
fill both cores to the end; within a module the order is kept, so its
module-scoped fixtures are still set up once per worker.

``tests/durations.json`` holds each module's seconds from a recent full run
(junit XML's times summed per file); a module not listed counts as the
median. It needs no upkeep for correctness: a stale figure only makes the
tail less even. Refresh it with ``python -m tests.support.ordering JUNIT.xml``
after a run with ``--junitxml=JUNIT.xml``.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
from pathlib import Path

DURATIONS = Path(__file__).resolve().parents[1] / "durations.json"


def longest_modules_first(items: list) -> None:
    """Reorder ``items`` (pytest items) in place: modules by recorded duration, longest first."""
    try:
        recorded = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return
    default = statistics.median(recorded.values()) if recorded else 0.0
    modules = [item.nodeid.split("::", 1)[0] for item in items]
    first = {}
    for index, module in enumerate(modules):
        first.setdefault(module, index)
    order = {module: (-recorded.get(module, default), index) for module, index in first.items()}
    items[:] = [item for _, item in sorted(zip(modules, items), key=lambda pair: order[pair[0]])]


def record(junit_xml: Path) -> dict[str, float]:
    """Each module's seconds in a junit XML report, as ``tests/durations.json`` keeps them."""
    import xml.etree.ElementTree as ElementTree

    seconds: collections.Counter[str] = collections.Counter()
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        parts = case.get("classname", "").split(".")
        last = max((i for i, part in enumerate(parts) if part.startswith("test_")), default=None)
        if last is not None:
            seconds["/".join(parts[: last + 1]) + ".py"] += float(case.get("time", 0))
    return {module: round(total, 1) for module, total in sorted(seconds.items())}


if __name__ == "__main__":
    DURATIONS.write_text(json.dumps(record(Path(sys.argv[1])), indent=0) + "\n")
