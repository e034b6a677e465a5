"""Everything here is a speed benchmark: the `perf` tier, left out of the default run (`tox -e bench` runs it)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/perf/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.perf)
