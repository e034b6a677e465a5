"""Per-trial seeds derived from named parts, never from the order trials are listed in."""

from __future__ import annotations

import hashlib
import random

import numpy as np


def stable_hash(text: str) -> int:
    """A 32-bit hash of ``text`` that is the same in every process and Python version."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def derive_seed(*parts: int | str) -> int:
    """A 32-bit seed from named parts via numpy's SeedSequence."""
    entropy = [p if isinstance(p, int) else stable_hash(p) for p in parts]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    """Seed the global generators that third-party code may use behind our back."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    # torch.manual_seed's CPU part, without its lazy CUDA/XPU seeding (which formats a stack trace per call)
    torch.random.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
