"""The suite's own order (issue 21: `make test` in minutes): the longest modules first, each module's tests together."""

from __future__ import annotations

import json
from types import SimpleNamespace

from tests.support import ordering


def test_modules_run_longest_first_with_their_tests_together_and_unknown_ones_at_the_median(tmp_path,
                                                                                             monkeypatch) -> None:
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({"tests/a.py": 1.0, "tests/b.py": 30.0, "tests/c.py": 5.0, "tests/d.py": 10.0}))
    monkeypatch.setattr(ordering, "DURATIONS", durations)
    ids = ["tests/a.py::one", "tests/new.py::x", "tests/a.py::two", "tests/b.py::one", "tests/c.py::one",
           "tests/b.py::two", "tests/d.py::one"]   # new.py: not recorded, counted as the median, 7.5
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in ids]
    ordering.longest_modules_first(items)
    assert [item.nodeid for item in items] == ["tests/b.py::one", "tests/b.py::two", "tests/d.py::one",
                                               "tests/new.py::x", "tests/c.py::one", "tests/a.py::one",
                                               "tests/a.py::two"]


def test_a_missing_durations_file_leaves_the_collected_order(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ordering, "DURATIONS", tmp_path / "absent.json")
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in ("tests/z.py::a", "tests/a.py::b")]
    ordering.longest_modules_first(items)
    assert [item.nodeid for item in items] == ["tests/z.py::a", "tests/a.py::b"]


def test_durations_are_summed_per_module_from_a_junit_report(tmp_path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text('<testsuites><testsuite>'
                      '<testcase classname="tests.unit.test_x" name="a" time="1.25"/>'
                      '<testcase classname="tests.unit.test_x.TestGroup" name="b" time="0.5"/>'
                      '<testcase classname="tests.e2e.test_y" name="c" time="3"/>'
                      '</testsuite></testsuites>')
    assert ordering.record(report) == {"tests/e2e/test_y.py": 3.0, "tests/unit/test_x.py": 1.8}
