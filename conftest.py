"""The suite's order: slow tests first.

With ``pytest -n auto`` (``make test``) the two workers of a 2-core machine take tests in the order
they are collected; a long test that starts last keeps one worker busy while the other has
finished, stretching the whole run. Tests marked ``slow`` (whole sweeps, calibration, the
browser, the reference engine) and then the notebooks therefore go first;
``--dist worksteal`` (the Makefile) lets an idle worker take what another has queued.
Nothing is skipped: ``make test`` runs every test.
"""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        if item.get_closest_marker("slow"):
            return 0  # tens of seconds each (calibration, the reference engine, the browser)
        return 1 if str(getattr(item, "path", "")).endswith(".ipynb") else 2  # a notebook: 4-12 s

    items.sort(key=rank)  # stable: the order within each kind is kept
