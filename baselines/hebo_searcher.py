"""HEBO (Cowen-Rivers et al., 2022) through the ``hebo`` package over six categorical edge variables.

HEBO 0.3.6 pins numpy<1.25 and pymoo==0.6.0; it runs beside the modern stack when installed with
``pip install --no-deps hebo==0.3.6`` plus ``pymoo GPy catboost disjoint-set`` (the ``hebo``
tox env and ``.ci/run`` do exactly that). HEBO draws from numpy's and torch's global generators
and sets torch's thread count on import; both are isolated here per call. With its pinned
pymoo 0.6.0 the acquisition optimiser drew its seed from numpy's global generator; pymoo 0.6.2
seeds from OS entropy instead, so ``_seed_pymoo_from_numpy`` restores the old behaviour (else
the same seed would not give the same trajectory).

On a space it can enumerate, HEBO's default (``optimizer = "auto"``, or ``"finite"``) keeps HEBO's model, power
transform, MACE acquisitions (EI, PI, LCB as three objectives) and its random pick from their Pareto set, but
computes the Pareto set over every unevaluated cell at once instead of searching for it with pymoo's genetic
algorithm (``FiniteParetoOpt``, swapped in for HEBO's ``EvolutionOpt`` during ``suggest``): ~4.6x faster per step,
~2x less HEBO compute a trial. Per task, its paired suite (``reports/hebo-fast-vs-stock/``: 20 seeds x 3 NB201
datasets x 50 evaluations) showed equivalence within ±0.25 regret points on CIFAR-10 only (HEBO's seed-to-seed
spread would need ~130-280 pairs per dataset); a pre-registered run on 20 fresh seeds pooling the 60 pairs in points
(``reports/hebo-finite-confirm/``) found it equivalent: -0.017 [-0.227, +0.194] at 50 evaluations. The exact front
also holds more purely exploratory cells than the genetic search's population (on the synthetic check, its first
three model proposals averaged 35 against stock's 49). ``optimizer = "evolution"`` (and "auto" on a space too large
to enumerate, MobileNetV3) is stock, with pymoo's pairwise duplicate
check done by hashing (``hebo_duplicates``: the same flags) and its per-variable mating on arrays (``hebo_mating``:
the same draws and offspring), so the same suggestions: a step at 50 observations 7.8 s -> 4.7 s with the first, at
100 observations 2.0 s -> 1.2 s with the second (one loaded run).

HEBO's GP runs on gpytorch, whose solves switch from CG/Lanczos to Cholesky once BoTorch is imported anywhere in
the process. ``_gp_settings`` pins BoTorch's settings around every HEBO call, so a trial is the same in any worker
(version 2; a version-1 trial depended on whether its worker had run a BoTorch or RGPE trial before it).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tnasbench.benchmarks.protocol import Result
from tnasbench.errors import TnasbenchError
from tnasbench.lazy import lazy_import
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext, Searcher
from tnasbench.space import SearchSpace

torch = lazy_import("torch")

CHUNK = 512  # candidates per acquisition call
INSTALL = "pip install --no-deps hebo==0.3.6 && pip install pymoo GPy catboost disjoint-set (or: tox -e hebo)"


@dataclass(frozen=True)
class HeboConfig:
    initial: int = 10  # HEBO's own default initial design; fewer than 7 lets its GP fit fail silently
    optimizer: str = "auto"  # "finite" on a space it can enumerate, else "evolution" (stock); see above

    def __post_init__(self) -> None:
        if self.optimizer not in ("auto", "finite", "evolution"):
            raise ValueError(f"hebo: optimizer must be 'auto', 'finite' or 'evolution', got {self.optimizer!r}")
        if self.initial < 7:
            raise ValueError(
                f"hebo: initial must be at least 7 (HEBO's GP fit degrades to NaN below), got {self.initial}"
            )


class HeboFailed(RuntimeError):
    """HEBO raised or produced an unusable suggestion."""


def _import_hebo():
    threads = torch.get_num_threads()
    try:
        import hebo.acq_optimizers.evolution_optimizer as evolution
        from hebo.design_space.design_space import DesignSpace
        from hebo.optimizers.hebo import HEBO
    except ImportError as error:
        raise ImportError(f"hebo is not installed ({error}): {INSTALL}") from None
    finally:
        torch.set_num_threads(threads)
    if not getattr(evolution.minimize, "seeded_from_numpy", False):
        evolution.minimize = _seed_pymoo_from_numpy(evolution.minimize)
    return DesignSpace, HEBO


def _seed_pymoo_from_numpy(minimize):
    """pymoo's ``minimize`` with a seed drawn from numpy's global generator when HEBO passes none."""

    def seeded(*args, **kwargs):
        kwargs.setdefault("seed", int(np.random.randint(0, 2**31 - 1)))
        return minimize(*args, **kwargs)

    seeded.seeded_from_numpy = True
    return seeded


class FiniteParetoOpt:
    """In place of HEBO's ``EvolutionOpt`` (same constructor and ``optimize``): the non-dominated set of the
    acquisition's objectives over a finite list of candidate cells, scored in one call (pymoo's sort)."""

    candidates: pd.DataFrame  # set per suggest: the cells not evaluated yet, in HEBO's columns

    def __init__(self, space, acq, **_: object) -> None:
        self.space, self.acq = space, acq

    def optimize(self, initial_suggest=None, fix_input=None) -> pd.DataFrame:
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        x, xe = self.space.transform(self.candidates)
        # in blocks: HEBO's GP predicts a block's full covariance, quadratic in its size
        objectives = np.concatenate(
            [self.acq(a, b).numpy() for a, b in zip(x.split(CHUNK), xe.split(CHUNK), strict=True)]
        )
        front = NonDominatedSorting().do(objectives, only_non_dominated_front=True)
        return self.candidates.iloc[np.sort(front)].reset_index(drop=True)


class Hebo(Searcher):
    """Params: ``initial`` (random suggestions before HEBO's model, default 10), ``optimizer``."""

    name = "hebo"
    params_type = HeboConfig
    version = "2"  # 2: BoTorch's GP settings in every process (1: whichever the worker process had)
    large_spaces = True  # stock HEBO searches the space's categorical dimensions; "finite" needs every cell

    @classmethod
    def check_space_params(cls, space: SearchSpace, params: dict) -> None:
        if params.get("optimizer") == "finite" and not space.enumerable:
            raise TnasbenchError(
                f"hebo: optimizer = 'finite' scores every cell, and the {space.name} space is too large to "
                "enumerate: use optimizer = 'evolution' (stock HEBO)"
            )

    @classmethod
    def version_for(cls, params: dict, space: SearchSpace) -> str:
        finite = _optimizer(params.get("optimizer", "auto"), space) == "finite"
        return "3" if finite else cls.version  # finite: 2 its optimiser, 3 GP settings

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config_from_params(HeboConfig, self.params, self.name)
        self._optimizer_name = _optimizer(self.config.optimizer, space)
        design_space, hebo = _import_hebo()
        self._names = [f"edge{k}" for k in range(len(space.dimensions))]  # HEBO's variables: the space's dimensions
        self._choices = [list(d.choices) for d in space.dimensions]
        variables = [
            {"name": name, "type": "cat", "categories": choices}
            for name, choices in zip(self._names, self._choices, strict=True)
        ]
        with _isolated_rng(seed):
            self._optimizer = hebo(design_space().parse(variables), rand_sample=self.config.initial, scramble_seed=seed)
        self._seed, self._steps = seed, 0
        self._snapped = self._random_steps = 0
        self._space = space
        self._unseen = np.ones(len(space), dtype=bool) if space.enumerable else None  # None: a large space
        if self._optimizer_name == "finite":  # every cell as HEBO's data frame
            matrix = space.choices_matrix
            self._cells = pd.DataFrame(
                {n: np.asarray(choices, dtype=object)[matrix[:, k]] for k, (n, choices) in enumerate(self._columns())}
            )

    def ask(self) -> Any:
        self._steps += 1
        try:
            printed = io.StringIO()  # HEBO prints, and falls back to random predictions, when its GP fit fails
            with _isolated_rng(self._seed * 100_003 + self._steps), _gp_settings(), self._acquisition_optimizer():
                with contextlib.redirect_stdout(printed):
                    suggestion = self._optimizer.suggest(n_suggestions=1)
            self._random_steps += "random predictions" in printed.getvalue()
            choices = [c.index(suggestion[name].iloc[0]) for name, c in self._columns()]
        except Exception as error:  # HEBO's own failures get one clear line
            raise HeboFailed(f"HEBO failed to suggest at step {self._steps}: {type(error).__name__}: {error}") from None
        arch = self._space.find(choices)  # a large space canonicalises (a skipped layer's choices are moot)
        if arch is None:  # a combination the space does not hold (NAS-Bench-Graph keeps one cell per class)
            self._snapped += 1
            arch = self._space.arch(int(self._space.nearest(choices, allowed=self._unseen)[0]))  # nearest unseen
        return arch

    def _columns(self) -> list[tuple[str, list[str]]]:
        return list(zip(self._names, self._choices, strict=True))

    def describe(self) -> dict[str, Any]:
        return {
            "optimizer": self._optimizer_name,
            "suggestions_outside_space": self._snapped,
            "steps_on_random_predictions": self._random_steps,
        }

    def _acquisition_optimizer(self):
        """HEBO's genetic optimiser, or the finite one over the cells not evaluated yet."""
        import hebo.optimizers.hebo as module

        if self._optimizer_name == "evolution":  # stock, with pymoo's duplicate check and mating on arrays
            import hebo.acq_optimizers.evolution_optimizer as evolution

            from baselines.hebo_duplicates import HashedDuplicates
            from baselines.hebo_mating import ArrayMating

            replacements = {"MixedVariableDuplicateElimination": HashedDuplicates, "MixedVariableMating": ArrayMating}
            return _swapped(evolution, **replacements)
        FiniteParetoOpt.candidates = self._cells[self._unseen].reset_index(drop=True)
        return _swapped(module, EvolutionOpt=FiniteParetoOpt)

    def tell(self, arch: Any, result: Result) -> None:
        if self._unseen is not None:
            self._unseen[self._space.index(arch)] = False
        if not np.isfinite(result.accuracy):  # HEBO would take it silently and degrade to random suggestions
            raise HeboFailed(f"HEBO cannot use the non-finite accuracy {result.accuracy} of {arch}: fix the benchmark")
        try:
            with _isolated_rng(self._seed * 100_003 + self._steps), _gp_settings():
                values = self._space.choices_of(arch)
                cell = pd.DataFrame({name: [c[v]] for (name, c), v in zip(self._columns(), values, strict=True)})
                self._optimizer.observe(cell, np.array([[-result.accuracy]]))  # HEBO minimises
        except Exception as error:
            raise HeboFailed(f"HEBO failed to observe step {self._steps}: {type(error).__name__}: {error}") from None


def _optimizer(name: str, space: SearchSpace) -> str:
    """The acquisition optimiser ``optimizer = name`` runs on ``space``: "auto" is finite where it can score
    every cell."""
    if name == "auto":
        return "finite" if space.enumerable else "evolution"
    return name


def _gp_settings() -> contextlib.ExitStack:
    """The gpytorch / linear_operator settings that importing BoTorch sets process-wide (Cholesky, not CG or
    Lanczos, for solves, log-probabilities and root decompositions; its size and jitter limits), for HEBO's GP.
    Without them a HEBO trial's trajectory depended on whether an earlier trial in the same worker process had
    imported BoTorch (version 1); with them it is the same in any process."""
    from gpytorch import settings as gp
    from linear_operator import settings as lo

    stack = contextlib.ExitStack()
    stack.enter_context(lo.fast_computations(covar_root_decomposition=False, log_prob=False, solves=False))
    stack.enter_context(lo.max_cholesky_size(4096))
    stack.enter_context(lo.cholesky_max_tries(6))
    stack.enter_context(gp.max_eager_kernel_size(4096))
    return stack


@contextlib.contextmanager
def _swapped(module, **replacements):
    """``module``'s attributes replaced for the duration (HEBO looks its pymoo classes up at call time)."""
    originals = {name: getattr(module, name) for name in replacements}
    for name, replacement in replacements.items():
        setattr(module, name, replacement)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


class _isolated_rng:
    """Seed numpy's and torch's global generators for HEBO, then restore what was there before."""

    def __init__(self, seed: int) -> None:
        self.seed = seed % 2**32

    def __enter__(self) -> None:
        self._numpy = np.random.get_state()
        self._torch = torch.random.get_rng_state()
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)

    def __exit__(self, *exc: object) -> None:
        np.random.set_state(self._numpy)
        torch.random.set_rng_state(self._torch)
