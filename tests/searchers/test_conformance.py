"""Every built-in searcher passes the conformance suite that plugin authors reuse."""

import pytest

from tnasbench.testing import SearcherConformance


class TestRandomSearch(SearcherConformance):
    @pytest.fixture
    def searcher_name(self):
        return "random-search"


class TestLocalSearch(SearcherConformance):
    @pytest.fixture
    def searcher_name(self):
        return "local-search"
