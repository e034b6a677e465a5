"""pymoo's duplicate check for HEBO's genetic acquisition search, by hashing instead of comparing every pair.

Stock HEBO (``EvolutionOpt``, MACE's three objectives) runs NSGA-II with pymoo's
``MixedVariableDuplicateElimination``, which compares individuals' variable dicts pair by pair in Python:
~40% of a step on NB201. ``HashedDuplicates`` flags the same individuals (an individual is a duplicate when
an equal one comes later in its population, or when one of ``other`` equals it) through a set of the
variables' values, so the search and HEBO's suggestions are unchanged, bit for bit. Populations whose
values cannot be hashed or are NaN (equal to nothing, itself included) take pymoo's own loop.
"""

from __future__ import annotations

import math

from pymoo.core.mixed import MixedVariableDuplicateElimination


def _key(individual) -> tuple:
    return tuple(sorted(individual.X.items()))  # a problem's variable names are distinct strings


def _hashable(keys: list[tuple]) -> bool:
    try:
        hash(tuple(keys))
    except TypeError:
        return False
    return not any(isinstance(v, float) and math.isnan(v) for key in keys for _, v in key)


class HashedDuplicates(MixedVariableDuplicateElimination):
    """``MixedVariableDuplicateElimination`` with its ``_do`` in linear time (same flags)."""

    def _do(self, pop, other, is_duplicate):
        keys = [_key(individual) for individual in pop]
        others = None if other is None else [_key(individual) for individual in other]
        if not _hashable(keys + (others or [])):
            return super()._do(pop, other, is_duplicate)
        if others is None:
            later: set[tuple] = set()
            for i in reversed(range(len(keys))):
                is_duplicate[i] |= keys[i] in later
                later.add(keys[i])
        else:
            found = set(others)
            for i, key in enumerate(keys):
                is_duplicate[i] |= key in found
        return is_duplicate
