"""Searcher protocol, registry and the built-in searchers."""

from tnasbench.searchers.protocol import MetaTable, SearchContext, Searcher
from tnasbench.searchers.registry import get_searcher, register, searcher_names

__all__ = ["MetaTable", "SearchContext", "Searcher", "get_searcher", "register", "searcher_names"]
