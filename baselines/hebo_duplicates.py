"""pymoo's duplicate check for HEBO's genetic acquisition search, by hashing instead of comparing every pair.

Stock HEBO (``EvolutionOpt``, MACE's three objectives) runs NSGA-II with pymoo's
``MixedVariableDuplicateElimination``, which compares individuals' variable dicts pair by pair in Python:
~40% of a step on NB201. ``HashedDuplicates`` flags the same individuals (an individual is a duplicate when
an equal one comes later in its population, or when one of ``other`` equals it) through a set of the
variables' values, so the search and HEBO's suggestions are unchanged, bit for bit. Populations that a set
would not compare as pymoo does (unhashable or NaN values, variables differing in names or their order) take
pymoo's own loop.
"""

from __future__ import annotations

from pymoo.core.mixed import MixedVariableDuplicateElimination


def _keys(individuals) -> list[tuple] | None:
    """Each individual's variable values as a tuple in one order of names, or None where tuples would not compare
    as pymoo does: individuals whose variables differ in names or order (pymoo's ``is_equal`` takes the first
    one's names), or a value unhashable or unequal to itself (NaN)."""
    rows = [individual.X for individual in individuals]
    names = tuple(rows[0]) if rows else ()
    if any(tuple(row) != names for row in rows):
        return None
    keys = [tuple(row.values()) for row in rows]
    try:
        hash(tuple(keys))
    except TypeError:
        return None
    if any(v != v for key in keys for v in key):
        return None
    return keys


class HashedDuplicates(MixedVariableDuplicateElimination):
    """``MixedVariableDuplicateElimination`` with its ``_do`` in linear time (same flags)."""

    def _do(self, pop, other, is_duplicate):
        keys = _keys(list(pop) + ([] if other is None else list(other)))
        if keys is None:
            return super()._do(pop, other, is_duplicate)
        if other is None:
            later: set[tuple] = set()
            for i in reversed(range(len(pop))):
                is_duplicate[i] |= keys[i] in later
                later.add(keys[i])
        else:
            found = set(keys[len(pop) :])
            for i in range(len(pop)):
                is_duplicate[i] |= keys[i] in found
        return is_duplicate
