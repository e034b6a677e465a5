"""Comparison searchers (BoTorch, HEBO, BANANAS, NASBOWL, one-shot, ...), registered by entry points."""
