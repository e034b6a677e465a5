"""pymoo's mixed-variable mating for HEBO's genetic acquisition search, on arrays instead of individuals.

Stock HEBO (``EvolutionOpt``) breeds NSGA-II offspring with pymoo's ``MixedVariableMating``, which
recombines each categorical variable on its own: per variable it wraps every parent's value in a pymoo
``Individual``, runs uniform crossover and random-choice mutation on those, and copies the values back
(~50% of a stock HEBO step on NB201, nearly all of it object bookkeeping). ``ArrayMating`` does the same
selection, crossover and mutation on one object array per variable, drawing the same random numbers in
the same order from the same generator, so it breeds the same offspring and HEBO suggests the same cells,
bit for bit. It applies where every variable is a ``Choice`` (HEBO's encoding of a categorical cell
space) with pymoo's default operators, on the pymoo versions whose operators it was checked against;
anything else takes pymoo's own path.
"""

from __future__ import annotations

import math

import numpy as np
import pymoo
from pymoo.core.mixed import MixedVariableMating
from pymoo.core.population import Population
from pymoo.core.variable import Choice, get
from pymoo.operators.crossover.ux import UX
from pymoo.operators.mutation.rm import ChoiceRandomMutation
from pymoo.operators.selection.rnd import RandomSelection

CHECKED_PYMOO = ("0.6.2",)  # versions whose crossover and mutation this reproduces (tests compare the two)
PROB_VAR = 0.5  # pymoo's per-variable mutation probability, min(0.5, 1 / n_var), for one variable at a time


def applies(mating: MixedVariableMating, problem) -> bool:
    """Whether ``ArrayMating`` reproduces pymoo for this mating and problem: pymoo's default operators on a
    problem of categorical variables only."""
    crossover, mutation = mating.crossover.get(Choice), mating.mutation.get(Choice)
    return (
        pymoo.__version__ in CHECKED_PYMOO
        and bool(problem.vars)
        and all(type(var) is Choice for var in problem.vars.values())
        and type(mating.selection) is RandomSelection
        and type(crossover) is UX
        and type(mutation) is ChoiceRandomMutation
        and mutation.prob_var is None
        and all(op.vtype is None and op.repair is None for op in (mating.selection, crossover, mutation))
    )


class ArrayMating(MixedVariableMating):
    """``MixedVariableMating`` with its ``_do`` on arrays for categorical problems (the same offspring)."""

    def _do(self, problem, pop, n_offsprings, parents=False, random_state=None, **kwargs):
        if parents or random_state is None or not applies(self, problem):  # (pymoo makes an unseeded generator)
            return super()._do(problem, pop, n_offsprings, parents=parents, random_state=random_state, **kwargs)
        matings = self.selection(problem, pop, math.ceil(n_offsprings / 2), 2, random_state=random_state, **kwargs)
        sides = ([first.X for first, _ in matings], [second.X for _, second in matings])  # [parent][mating]
        offspring: list[dict] = [{} for _ in range(n_offsprings)]
        for name, var in problem.vars.items():
            values = np.stack([np.fromiter((x[name] for x in side), dtype=object, count=len(side)) for side in sides])
            crossed = _crossed(values, self.crossover[Choice], random_state)
            children = _mutated(crossed, var, self.mutation[Choice], random_state)
            for child, value in zip(offspring, children.tolist(), strict=False):  # the first n_offsprings
                child[name] = value
        return Population.new(X=offspring)


def _crossed(parents: np.ndarray, crossover: UX, random_state: np.random.Generator) -> np.ndarray:
    """pymoo's ``Crossover.do`` with uniform crossover on one variable: the two children of each mating,
    first children of all matings, then second ones."""
    matings = parents.shape[1]
    cross = random_state.random(matings) < get(crossover.prob, size=matings)
    children = parents.copy()
    if np.any(cross):
        swap = (random_state.random((matings, 1)) < 0.5)[:, 0] & cross
        children[0, swap], children[1, swap] = parents[1, swap], parents[0, swap]
    return children.reshape(-1)


def _mutated(
    children: np.ndarray, var: Choice, mutation: ChoiceRandomMutation, random_state: np.random.Generator
) -> np.ndarray:
    """pymoo's ``Mutation.do`` with random-choice mutation on one variable: each child re-drawn with
    probability ``PROB_VAR``, the result kept with the mutation's probability."""
    drawn = children.copy()
    chosen = np.where(random_state.random(len(drawn)) < PROB_VAR)[0]
    drawn[chosen] = var.sample(len(chosen), random_state=random_state)
    kept = random_state.random(size=len(drawn)) <= get(mutation.prob, size=len(drawn))
    return np.where(kept, drawn, children)
