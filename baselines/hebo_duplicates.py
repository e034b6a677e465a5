"""pymoo's duplicate check for HEBO's genetic acquisition search, by hashing instead of comparing every pair.

Stock HEBO (``EvolutionOpt``, MACE's three objectives) runs NSGA-II with pymoo's
``MixedVariableDuplicateElimination``, which compares individuals' variable dicts pair by pair in Python:
~40% of a step on NB201. ``HashedDuplicates`` flags the same individuals (an individual is a duplicate when
an equal one comes later in its population, or when one of ``other`` equals it) through a set of the
variables' values, so the search and HEBO's suggestions are unchanged, bit for bit. Populations that a set
would not compare as pymoo does (unhashable or NaN values, differing variable names) take pymoo's own loop.
"""

from __future__ import annotations

from pymoo.core.mixed import MixedVariableDuplicateElimination


def _keys(individuals) -> list[frozenset] | None:
    """Each individual's variables as a hashable set of (name, value), or None where that would not compare as
    pymoo does: a value unhashable or unequal to itself (NaN), or individuals with different variable names
    (pymoo's ``is_equal`` only checks the first one's names)."""
    try:
        keys = [frozenset(individual.X.items()) for individual in individuals]
        hash(tuple(keys))
    except TypeError:
        return None
    names = {frozenset(individual.X) for individual in individuals}
    if len(names) > 1 or any(v != v for key in keys for _, v in key):
        return None
    return keys


class HashedDuplicates(MixedVariableDuplicateElimination):
    """``MixedVariableDuplicateElimination`` with its ``_do`` in linear time (same flags)."""

    def _do(self, pop, other, is_duplicate):
        keys = _keys(list(pop) + ([] if other is None else list(other)))
        if keys is None:
            return super()._do(pop, other, is_duplicate)
        if other is None:
            later: set[frozenset] = set()
            for i in reversed(range(len(pop))):
                is_duplicate[i] |= keys[i] in later
                later.add(keys[i])
        else:
            found = set(keys[len(pop) :])
            for i in range(len(pop)):
                is_duplicate[i] |= keys[i] in found
        return is_duplicate
