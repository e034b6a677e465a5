"""TNAS (Shala et al., ICLR 2023): a meta-learned deep-kernel GP surrogate and its BO loop."""
