"""TNAS hyper-parameters. Defaults are sized for a 2-core CPU; ``PAPER_SIZES`` are the released code's."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

CACHE_VARIABLE = "TNASBENCH_META_CACHE"  # a folder for meta-trained weights instead of $TNASBENCH_HOME/tnas
ARCH_ENCODERS = ("gru", "onehot")
META_TRAINING = ("reptile", "fsbo", "none")
ACQUISITIONS = ("ei", "ucb")
INITIAL_DESIGNS = ("top", "random")
META_TASKS = ("all", "with-images")

# Fields that change the meta-trained weights: the cache key is built from these only.
META_FIELDS = (
    "arch_encoder", "arch_hidden", "arch_latent", "data_encoder", "data_hidden", "data_latent", "head",
    "meta_training", "meta_steps", "inner_steps", "batch", "meta_lr", "reptile_step", "meta_seed",
)  # fmt: skip

# The authors' released sizes (GRU hidden 512; a GPU makes them practical).
PAPER_SIZES: dict[str, Any] = {"arch_hidden": 512, "data_hidden": 512, "head": (99, 50, 179, 194)}


@dataclass(frozen=True)
class TnasConfig:
    arch_encoder: str = "gru"  # ψ: "gru" (D-VAE DAG encoder) or "onehot" (MLP on one-hot, an ablation)
    arch_hidden: int = 128
    arch_latent: int = 16
    data_encoder: bool = True  # φ, used when the target and every meta-training dataset have images
    data_hidden: int = 64
    data_latent: int = 16
    head: tuple[int, ...] = (64, 64, 32)  # ξ widths; the last is the kernel's input dimension
    meta_training: str = "reptile"  # "reptile" (the paper), "fsbo" (the released code) or "none"
    meta_steps: int = 400  # Reptile outer steps, or FSBO Adam steps
    inner_steps: int = 5  # Reptile inner Adam steps per task
    batch: int = 256  # (cell, accuracy) pairs per meta-training minibatch
    meta_lr: float = 1e-3
    reptile_step: float = 0.5  # outer step size, annealed linearly to 0
    meta_seed: int | None = None  # seeds meta-training; None: derived from the trial seed (a real replicate)
    finetune_epochs: int = 50  # Adam epochs on the target's observations per BO step
    finetune_lr: float = 1e-3
    acquisition: str = "ei"
    ucb_beta: float = 2.0
    initial_design: str = "top"  # "top": the meta-trained model's best cells; "random"
    initial: int = 5
    context_per_task: int = 256  # meta-training cells the model conditions on to rank the initial design,
    context_total: int = 1024  # ... at most this many over all meta tasks (binds beyond 4 tasks: 7 get 146 each)
    meta_tasks: str = "all"  # "with-images": leave out meta tables without images (so φ runs), e.g. a surrogate's
    pool_size: int = 10_000  # on a space too large to enumerate: random cells in the candidate pool
    pool_parents: int = 10  # ... plus the mutations of this many best cells

    def __post_init__(self) -> None:
        for name, allowed in (
            ("arch_encoder", ARCH_ENCODERS),
            ("meta_training", META_TRAINING),
            ("acquisition", ACQUISITIONS),
            ("initial_design", INITIAL_DESIGNS),
            ("meta_tasks", META_TASKS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"tnas: {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("arch_hidden", "arch_latent", "data_hidden", "data_latent", "batch", "initial"):
            if getattr(self, name) < 1:
                raise ValueError(f"tnas: {name} must be at least 1, got {getattr(self, name)}")
        if self.meta_seed is not None and (isinstance(self.meta_seed, bool) or not isinstance(self.meta_seed, int)):
            raise ValueError(f"tnas: meta_seed must be an integer (or left out: the trial's), got {self.meta_seed!r}")
        if self.pool_size < 1 or self.pool_parents < 0:
            raise ValueError(
                f"tnas: pool_size must be ≥ 1 and pool_parents ≥ 0, got {self.pool_size}, {self.pool_parents}"
            )
        if self.meta_training == "none" and self.initial_design == "top":
            raise ValueError("tnas: initial_design 'top' needs a meta-trained model; use 'random' without one")

    def meta_key(self, data_checksums: list[str]) -> str:
        """Cache key of the meta-trained weights: meta-relevant fields, data checksums, code version."""
        fields = {name: getattr(self, name) for name in META_FIELDS}
        text = json.dumps({"fields": fields, "data": data_checksums, "version": MODEL_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


MODEL_VERSION = "3"  # bump when the model or meta-training code changes what a cached checkpoint means
