"""TNAS as an ask/tell searcher, and its ablations as registered variants."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tnasbench.errors import TnasbenchError
from tnasbench.lazy import lazy_import
from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import MetaTable, SearchContext
from tnasbench.seeding import derive_seed
from tnasbench.space import SearchSpace
from tnasbench.tnas.config import TnasConfig

if TYPE_CHECKING:
    from tnasbench.suite import TrialSpec
    from tnasbench.tnas.meta import MetaTask

torch = lazy_import("torch")


class Tnas(ObservingSearcher):
    """Transfer NAS: BO with a deep-kernel GP meta-trained on the other datasets' tables.

    Params: any field of ``TnasConfig``. Without images of the target and of every
    meta-training dataset the dataset encoder is off; ``describe()`` records that.
    """

    name = "tnas"
    params_type = TnasConfig  # unknown or mistyped params are refused when a suite loads
    version = "3"  # 2: meta-training follows the trial seed (1 shared meta_seed 0); 3: closed-form NLL gradient
    variant_defaults: ClassVar[dict[str, Any]] = {}
    large_spaces = True  # on the GRU encoder, meta-trained on the benchmark's tables of listed cells or not

    @classmethod
    def check_space_params(cls, space: SearchSpace, params: dict) -> None:
        if space.enumerable:
            return
        config = config_from_params(TnasConfig, cls.variant_defaults | params, cls.name)
        if config.arch_encoder != "gru" or config.meta_training == "fsbo":
            raise TnasbenchError(
                f"{cls.name} needs cells of one size (the one-hot encoder) or the same cells in every meta table "
                f"(fsbo meta-training); the {space.name} space has neither: use tnas, tnas-nodata or tnas-nometa"
            )

    @classmethod
    def needs_meta_tables(cls, params: dict) -> bool:
        return config_from_params(TnasConfig, cls.variant_defaults | params, cls.name).meta_training != "none"

    @classmethod
    def _config(cls, params: dict, seed: int) -> TnasConfig:
        """The variant's config for ``params``; without a ``meta_seed`` each replicate meta-trains from its own
        (derived from the searcher ``seed``), and the cache shares equal meta-trainings."""
        config = config_from_params(TnasConfig, cls.variant_defaults | params, cls.name)
        if config.meta_seed is None:
            config = dataclasses.replace(config, meta_seed=derive_seed(seed, "meta-training"))
        return config

    @classmethod
    def shared_setup(cls, spec: TrialSpec) -> str | None:
        """Trials of one task whose meta-training fields and meta seed agree meta-train the same model."""
        config = cls._config(spec.searcher_params, spec.searcher_seed)
        if config.meta_training == "none":
            return None
        task = [spec.benchmark, spec.dataset, spec.objective, spec.signature, spec.live, config.meta_tasks]
        return config.meta_key(task)

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        from tnasbench.tnas.dataset_encoder import image_features
        from tnasbench.tnas.meta import MetaTask, meta_graphs, meta_trained

        config = self.config = self._config(self.params, seed)
        self.start(space, seed, config.pool_size, config.pool_parents)
        self._device = torch.device(context.device)
        tables = _meta_tables_used(config, context)
        self._data_note = _dataset_encoder_note(config, context, tables)
        use_data = self._data_note == "on"
        if config.meta_training != "none" and not tables:
            raise ValueError(f"{self.name}: no meta-training datasets in the search context (meta_training='none'?)")
        graphs, rows = meta_graphs(space, tables)
        tasks = [
            MetaTask.from_accuracies(t.dataset, t.accuracies, image_features(t.images) if use_data else None, r)
            for t, r in zip(tables, rows, strict=True)
        ]
        with torch.random.fork_rng():  # the model is initialised from meta_seed; the global generator is left alone
            self.model, codes, self._meta_info = meta_trained(config, use_data, graphs, tasks)
        self.model.to(self._device).eval()
        self._meta_codes = codes.to(self._device)  # ψ of the meta tables' cells (rows of ``graphs``)
        # ψ of cells by id: every cell of an enumerable space; a large space's as the candidate pools meet them
        self._codes = self._meta_codes if space.enumerable else codes.new_zeros(0, config.arch_latent)
        with torch.no_grad():
            target = image_features(context.images).to(self._device) if use_data else None
            self._data_code = self.model.data_code(target)
            self._embedded = self.model.features(self._codes, self._data_code) if space.enumerable else None
        self._meta_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        self._initial = self._initial_design(tasks)

    def describe(self) -> dict[str, Any]:
        variant = self.name if self._data_note == "on" or self.name != "tnas" else "tnas-nodata"
        return {
            "variant": variant,
            "dataset_encoder": self._data_note,
            "config": self.config.as_dict(),
            **self._meta_info,
            **self.pool_rule(),
        }

    # --- initial design --------------------------------------------------------
    def _initial_design(self, tasks: list[MetaTask]) -> list[int]:
        if not self._space.enumerable:
            return self._initial_design_from_pool(tasks)
        canonical = self._space.canonical_ids
        if self.config.initial_design == "random":
            order = self._rng.permutation(len(self._space))
        else:
            order = self._meta_ranking(tasks, self._embedded)
        chosen: list[int] = []
        for index in order.tolist():  # one cell per isomorphism class
            if canonical[index] not in {canonical[c] for c in chosen}:
                chosen.append(index)
            if len(chosen) == self.config.initial:
                break
        return chosen

    def _initial_design_from_pool(self, tasks: list[MetaTask]) -> list[int]:
        """On a large space: random distinct cells, or the meta-trained model's best of the candidate pool (a
        large space's cells are canonical already, so distinct cells are distinct networks)."""
        if self.config.initial_design == "random":
            cells = dict.fromkeys(self._space.sample_many(self._rng, 4 * self.config.initial))
            return [self.cell_id(c) for c in list(cells)[: self.config.initial]]
        ids = self.candidates()
        with torch.no_grad():
            embedded = self.model.features(self._codes_of(ids), self._data_code)
        return [int(ids[k]) for k in self._meta_ranking(tasks, embedded)[: self.config.initial]]

    def _meta_ranking(self, tasks: list[MetaTask], candidates: torch.Tensor) -> np.ndarray:
        """Rows of ``candidates`` (kernel inputs) by the meta-trained GP's mean after conditioning on a random
        sample of meta-training data."""
        xs, ys = [], []
        per_task = min(self.config.context_per_task, self.config.context_total // len(tasks), len(candidates))
        with torch.no_grad():
            for task in tasks:
                entries = len(task.targets)
                rows = torch.as_tensor(self._rng.choice(entries, min(per_task, entries), replace=False))
                code = self.model.data_code(None if task.features is None else task.features.to(self._device))
                xs.append(self.model.features(self._meta_codes[task.cells_at(rows)], code))
                ys.append(task.targets[rows].to(self._device))
            mean, _ = self.model.predict(torch.cat(xs), torch.cat(ys), candidates)
        return np.argsort(-mean.cpu().numpy(), kind="stable")

    # --- BO loop ----------------------------------------------------------------
    def ask(self) -> Any:
        if len(self.observed) < len(self._initial):
            return self.cell(self._initial[len(self.observed)])
        return self.cell(self._maximise_acquisition())

    def _codes_of(self, ids: np.ndarray | list[int]) -> torch.Tensor:
        """ψ codes of these cell ids; on a large space the registry's new cells are encoded first (ψ is frozen)."""
        if self._registry is not None and len(self._codes) < len(self._registry):
            from tnasbench.tnas.arch_encoder import encode_dags

            new = [self._registry.cell(i) for i in range(len(self._codes), len(self._registry))]
            with torch.no_grad():
                self._codes = torch.cat([self._codes, encode_dags(self.model.arch_encoder, self._space, new)])
        return self._codes[torch.as_tensor(np.asarray(ids, dtype=np.int64), device=self._codes.device)]

    def _targets(self) -> torch.Tensor:
        y = torch.tensor(self.accuracies, dtype=torch.float64, device=self._device)
        spread = y.std() if len(y) > 1 and y.std() > 0 else y.new_tensor(1.0)
        return (y - y.mean()) / spread

    def _finetune(self, y: torch.Tensor) -> None:
        """Fine-tune head and GP from the meta-trained weights on the target's observations."""
        from tnasbench.flat_adam import make_adam

        self.model.load_state_dict(self._meta_state)
        codes = self._codes_of(self.observed)
        optimizer = make_adam(self.model.finetuned_parameters(), lr=self.config.finetune_lr)
        self.model.head.train()
        for _ in range(self.config.finetune_epochs):
            optimizer.zero_grad()
            self.model.nll(self.model.features(codes, self._data_code), y).backward()
            optimizer.step()

    def _maximise_acquisition(self) -> int:
        ids = self.candidates()
        rows = np.concatenate([ids, np.setdiff1d(self.observed, ids)]).astype(np.int64)  # a pool lacks the observed
        order = np.argsort(rows, kind="stable")  # where each observed cell sits in ``rows`` (a dict cost 4 ms a step)
        observed_rows = torch.as_tensor(order[np.searchsorted(rows, self.observed, sorter=order)])
        y = self._targets()
        self._finetune(y)
        with torch.no_grad():
            embedded = self.model.features(self._codes_of(rows), self._data_code)
            mean, variance = self.model.predict(embedded[observed_rows], y, embedded[: len(ids)])
            score = acquisition(mean, variance.sqrt(), float(y.max()), self.config)
            score[torch.as_tensor(np.isin(ids, self.observed))] = -torch.inf
        return int(ids[int(torch.argmax(score))])


def acquisition(mean: torch.Tensor, std: torch.Tensor, best: float, config: TnasConfig) -> torch.Tensor:
    """Expected improvement over ``best`` (closed form), or the upper confidence bound."""
    if config.acquisition == "ucb":
        return mean + config.ucb_beta**0.5 * std
    normal = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    z = (mean - best) / std
    return std * (normal.log_prob(z).exp() + z * normal.cdf(z))


def _meta_tables_used(config: TnasConfig, context: SearchContext) -> tuple[MetaTable, ...]:
    """The context's meta tables, or with ``meta_tasks = "with-images"`` those that have images (so φ can run)."""
    if config.meta_tasks == "with-images":
        return tuple(t for t in context.meta_tables if t.images is not None)
    return context.meta_tables


def _dataset_encoder_note(config: TnasConfig, context: SearchContext, tables: tuple[MetaTable, ...]) -> str:
    """ "on", or "off: <why>" — the dataset encoder runs only with images of the target and every meta dataset."""
    if not config.data_encoder:
        return "off: disabled by the variant"
    if context.images is None:
        return f"off: no images of the target {context.dataset!r} (tabular benchmark)"
    missing = [t.dataset for t in tables if t.images is None]
    if missing:
        return (
            f"off: no images of the meta-training datasets {', '.join(missing)} (meta_tasks 'with-images' drops them)"
        )
    return "on"


class TnasNoData(Tnas):
    """Ablation: no dataset encoder φ."""

    name = "tnas-nodata"
    variant_defaults = {"data_encoder": False}


class TnasOneHot(Tnas):
    """Ablation: an MLP on the one-hot encoding instead of the graph encoder ψ."""

    name = "tnas-onehot"
    variant_defaults = {"arch_encoder": "onehot"}


class TnasNoMeta(Tnas):
    """Ablation: the same model from a random initialisation, no meta-training (so a random initial design)."""

    name = "tnas-nometa"
    variant_defaults = {"meta_training": "none", "initial_design": "random"}


class TnasRandomInit(Tnas):
    """Ablation: meta-trained, but a random initial design instead of the model's top cells. It shares TNAS's
    seeds, so each replicate uses TNAS's meta-trained model (cached) and the ablation is paired with TNAS."""

    name = "tnas-randinit"
    version = f"{Tnas.version}.1"  # .1: TNAS's seeds and meta-trained model (before: seeds of its own)
    variant_defaults = {"initial_design": "random"}
    seed_stream = "tnas"


class TnasFsbo(Tnas):
    """The authors' released meta-training procedure (FSBO-style Adam with a validation checkpoint)."""

    name = "tnas-fsbo"
    variant_defaults = {"meta_training": "fsbo", "meta_steps": 1000}


class Fsbo(Tnas):
    """Few-shot BO (Wistuba & Grabocka, ICLR 2021) as its authors define it: a deep-kernel GP on the one-hot
    cell encoding, meta-trained on the pooled meta tasks (Adam on the GP likelihood, best checkpoint by
    validation correlation), fine-tuned on the target's observations each step. That is TNAS's
    released-code procedure with the one-hot encoder and no dataset encoder, so it is registered as that
    configuration, not a copy; ``describe()`` says so."""

    name = "fsbo"
    variant_defaults = {"meta_training": "fsbo", "meta_steps": 1000, "arch_encoder": "onehot", "data_encoder": False}

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"variant": "fsbo", "same_as": "tnas-fsbo with arch_encoder='onehot', no φ"}
