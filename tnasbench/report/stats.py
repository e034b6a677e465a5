"""Statistics over the store's trials: regret at checkpoints, intervals, ranks, Friedman/Nemenyi per budget
(autorank), paired Wilcoxon signed-rank with Holm correction and TOST equivalence (scipy).

Independent blocks only: the checkpoints of one run are nested, so no test treats budgets as blocks.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from autorank import autorank
from scipy import stats

from tnasbench.report.anytime import checkpoints, trial_budgets

ALPHA = 0.05
POOLED = "pooled"  # the scope of a paired test over every task, on normalised regret
POOLED_POINTS = "pooled (points)"  # over every task in regret points, with a margin, when tasks share one metric


def regret_at_budgets(curves: pd.DataFrame) -> pd.DataFrame:
    """Best-so-far regret of every trial at the checkpoints of its budget (10/25/50/100% of it):
    (dataset, searcher, seed, budget, regret, normalised_regret, objective_regret, ceiling_regret)."""
    budgets = trial_budgets(curves)
    wanted = pd.DataFrame(
        [(trial, point) for trial, budget in budgets.items() for point in checkpoints(int(budget))],
        columns=["trial", "step"],
    )
    reached = curves.merge(wanted, on=["trial", "step"])
    columns = [
        "dataset", "searcher", "seed", "budget", "regret", "normalised_regret", "objective_regret", "ceiling_regret",
    ]  # fmt: skip
    return (
        reached.rename(columns={"step": "budget"})[columns]
        .sort_values(["dataset", "budget", "searcher", "seed"])
        .reset_index(drop=True)
    )


def summary_with_ci(at_budgets: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and 95% t-interval half-width of regret per (dataset, budget, searcher), with the mean
    normalised and objective regret, and the task's ceiling regret (the floor a searcher that finds the
    searched metric's best cell is left with)."""
    grouped = at_budgets.groupby(["dataset", "budget", "searcher"])
    return grouped.agg(
        seeds=("regret", "size"),
        mean=("regret", "mean"),
        std=("regret", "std"),
        ci95=("regret", ci_half_width),
        normalised_mean=("normalised_regret", "mean"),
        objective_mean=("objective_regret", "mean"),
        ceiling_regret=("ceiling_regret", "first"),
    ).reset_index()


def ci_half_width(values: pd.Series) -> float:
    """Half-width of the 95% t-interval of the mean; NaN for fewer than two values."""
    n = len(values)
    return float(stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / np.sqrt(n)) if n > 1 else np.nan


def on_every_benchmark(at_budgets: pd.DataFrame, runs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The rows of searchers that ran on every benchmark of a pooled report, and the names of the others;
    ``runs``: the (searcher, benchmark) of every finished trial (a task name may recur across benchmarks).

    Ranks need one value per searcher in a block: a searcher one benchmark alone runs (a space's own
    ablation) would void every block of the others, so it is left out of the ranks instead. Within a
    benchmark nothing is dropped here: a block missing a searcher is incomplete and ``blocks`` skips it.
    """
    covered = runs.groupby("searcher")["benchmark"].nunique()
    missing = sorted(covered.index[covered < runs["benchmark"].nunique()])
    return at_budgets[~at_budgets["searcher"].isin(missing)], missing


def ranks(at_budgets: pd.DataFrame) -> pd.DataFrame:
    """Rank of each searcher's regret per (dataset, budget, seed); 1 is best, ties share the mean rank.

    Only blocks where every searcher has a value are ranked (a partial store ranks what it can).
    """
    wide = at_budgets.pivot_table(index=["dataset", "budget", "seed"], columns="searcher", values="regret")
    ranked = wide.dropna().rank(axis=1, method="average")
    return ranked.reset_index().melt(id_vars=["dataset", "budget", "seed"], var_name="searcher", value_name="rank")


def blocks(at_budgets: pd.DataFrame, budget: int) -> pd.DataFrame:
    """Blocks for the omnibus test at one budget: one row per (dataset, seed), complete rows only."""
    at = at_budgets[at_budgets["budget"] == budget]
    return at.pivot_table(index=["dataset", "seed"], columns="searcher", values="regret").dropna()


@dataclass(frozen=True)
class RankTest:
    """The outcome of Friedman + Nemenyi over the blocks of one budget (autorank, non-parametric mode)."""

    budget: int
    blocks: int
    searchers: list[str]
    mean_ranks: dict[str, float]
    friedman_p: float
    critical_difference: float | None
    significant: bool
    result: object  # autorank's result, for its CD plot
    note: str = ""


def friedman_nemenyi(table: pd.DataFrame, budget: int = 0) -> RankTest | None:
    """autorank on ``table`` (rows = independent blocks, columns = searchers, values = regret; lower is better).

    ``None`` for fewer than 5 blocks or 3 searchers: Friedman needs both (autorank tests two
    searchers with a paired test instead, which the paired section already reports).
    """
    if table.shape[0] < 5 or table.shape[1] < 3:
        return None
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its normality checks warn on constant columns (e.g. all-zero regret)
        result = autorank(table, alpha=ALPHA, order="ascending", force_mode="nonparametric", random_state=0)
    cd = getattr(result, "cd", None)
    return RankTest(
        budget=budget,
        blocks=table.shape[0],
        searchers=list(table.columns),
        mean_ranks={k: float(v) for k, v in result.rankdf["meanrank"].items()},
        friedman_p=float(result.pvalue),
        critical_difference=None if cd is None else float(cd),
        significant=bool(result.pvalue < ALPHA),
        result=result,
        note=f"N = {table.shape[0]} blocks = (dataset, seed) at {budget} evaluations",
    )


def paired_tests(
    at_budgets: pd.DataFrame,
    reference: str,
    budgets: list[int] | None = None,
    margin: float | None = None,
    same_units: bool = False,
) -> pd.DataFrame:
    """``reference`` vs every other searcher at each budget, per task (regret points) and pooled over tasks
    (normalised regret, pairs = (dataset, seed)), without correction; ``holm`` corrects a family of them.

    ``difference`` = mean of (other − reference): positive means the reference did better; ``ci_low``/
    ``ci_high`` its 95% t-interval; ``p`` the two-sided Wilcoxon signed-rank p. With a ``margin`` (regret
    points), ``p_equivalent`` is the TOST p that a mean difference in points lies inside ±margin, and
    ``p_noninferior`` the one-sided paired t p that it lies below +margin (the other is not worse by the margin);
    when the tasks' regrets share one metric (``same_units``), a ``POOLED_POINTS`` scope tests them over
    every (dataset, seed) pair in points.
    """
    frame = at_budgets if budgets is None else at_budgets[at_budgets["budget"].isin(budgets)]
    several = frame["dataset"].nunique() > 1
    pooled = several and frame["normalised_regret"].notna().all()
    rows = []
    for budget, at in frame.groupby("budget"):
        scopes = [(d, part, "regret") for d, part in at.groupby("dataset")]
        scopes += [(POOLED, at, "normalised_regret")] if pooled else []
        scopes += [(POOLED_POINTS, at, "regret")] if several and same_units and margin is not None else []
        for scope, part, value in scopes:
            wide = part.pivot_table(index=["dataset", "seed"], columns="searcher", values=value)
            if reference not in wide:
                continue
            for other in [c for c in wide.columns if c != reference]:
                pair = wide[[reference, other]].dropna()
                if pair.empty:
                    continue
                diff = pair[other] - pair[reference]
                p = 1.0 if np.allclose(diff, 0) else signed_rank_p(diff.to_numpy())
                half = ci_half_width(diff)  # NaN for a single pair
                row = {"budget": budget, "scope": scope, "searcher": other, "value": value, "pairs": len(pair)}
                row |= {"difference": diff.mean(), "ci_low": diff.mean() - half, "ci_high": diff.mean() + half, "p": p}
                if margin is not None:
                    in_points = value == "regret"
                    row["p_equivalent"] = tost_p(diff, margin) if in_points else np.nan
                    row["p_noninferior"] = noninferior_p(diff, margin) if in_points else np.nan
                rows.append(row)
    columns = ["budget", "scope", "searcher", "value", "pairs", "difference", "ci_low", "ci_high", "p"]
    return pd.DataFrame(rows, columns=columns + ([] if margin is None else ["p_equivalent", "p_noninferior"]))


EXACT_PAIRS = 13  # up to here scipy's p is exact (all 2^n sign flips); beyond it, scipy's own methods


def signed_rank_p(diff: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences (zeros dropped, ties share mean ranks).

    Up to ``EXACT_PAIRS`` pairs the exact sign-flip distribution of the positive rank sum, enumerated at once:
    the p scipy gives (its exact test without ties, its exhaustive permutation test with ties or zeros) at a
    fraction of the cost (scipy scores each of the 2^n flips in Python: ~0.8 s a test). Beyond it, scipy.
    """
    if len(diff) > EXACT_PAIRS or np.isnan(diff).any():  # (scipy's p is NaN for a NaN difference)
        return float(stats.wilcoxon(diff).pvalue)
    nonzero = diff[diff != 0]
    if len(nonzero) == 0:
        return 1.0
    rank = stats.rankdata(np.abs(nonzero))
    observed = rank[nonzero > 0].sum()
    flips = (np.arange(2 ** len(rank))[:, None] >> np.arange(len(rank))) & 1  # every sign pattern, one per row
    null = flips @ rank
    tolerance = 1e-9 * max(1.0, observed)
    below, above = np.mean(null <= observed + tolerance), np.mean(null >= observed - tolerance)
    return float(min(1.0, 2 * min(below, above)))


def holm_adjusted(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), in the input's order: the i-th smallest p times
    (m − i), made non-decreasing, capped at 1. statsmodels' ``multipletests(method="holm")`` gives the same
    values but runs a full garbage collection on every call (0.1 s each in a report's heap)."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def holm(table: pd.DataFrame, margin: float | None = None) -> pd.DataFrame:
    """``table`` (from ``paired_tests``) as one Holm family: ``p_holm`` and an ``outcome`` per row."""
    table = table.copy()
    if table.empty:
        return table.assign(p_holm=[], outcome=[])
    table["p_holm"] = holm_adjusted(table["p"])
    outcome = np.where(
        table["p_holm"] >= ALPHA, "no significant difference", np.where(table["difference"] > 0, "better", "worse")
    )
    # each row's smallest attainable Holm p: Holm over every row at its own floor (2 / 2^pairs, all differences
    # one way); Holm's adjusted p rises with the raw one, so no outcome of the data gets a row below this
    floors = holm_adjusted([2.0 / 2.0 ** int(n) for n in table["pairs"]])
    hopeless = (floors >= ALPHA) & (table["p_holm"].to_numpy() >= ALPHA)
    outcome = np.where(  # say when a row could not have been significant at all, whatever its differences
        hopeless, [f"cannot be significant ({n} pairs, {len(table)} tests)" for n in table["pairs"]], outcome
    )
    if margin is not None:
        table["p_equivalent_holm"] = holm_adjusted(table["p_equivalent"].fillna(1.0))
        table["p_noninferior_holm"] = holm_adjusted(table["p_noninferior"].fillna(1.0))
        # outcomes speak for the reference ("better": it did better); a row that is non-inferior and not
        # significantly better than the reference (which "worse" already says) is "non-inferior"
        noninferior = (table["p_noninferior_holm"] < ALPHA) & (outcome != "better") & (outcome != "worse")
        outcome = np.where(noninferior, f"non-inferior (+{margin:g})", outcome)
        outcome = np.where(table["p_equivalent_holm"] < ALPHA, f"equivalent (±{margin:g})", outcome)
    table["outcome"] = outcome
    return table


def paired_comparison(
    at_budgets: pd.DataFrame, reference: str, margin: float | None = None, same_units: bool = False
) -> pd.DataFrame:
    """Every paired test of ``reference`` (``paired_tests``), Holm-corrected within each scope (one task, or
    pooled) over searcher × budget, the families the verdicts' checks use. One family of every row (504 in
    a report of 8 tasks) would leave no per-task row a chance, whatever its differences."""
    tests = paired_tests(at_budgets, reference, margin=margin, same_units=same_units)
    if tests.empty:
        return holm(tests, margin)
    return pd.concat([holm(family, margin) for _, family in tests.groupby("scope", sort=False)]).sort_index()


def smallest_holm_p(pairs: int, tests: int) -> float:
    """The smallest Holm-corrected p a family of ``tests`` two-sided Wilcoxon tests can reach with ``pairs``
    pairs each: every test at its floor 2 / 2^pairs (all differences one way), times the family size."""
    return min(1.0, tests * 2.0 / 2.0**pairs)


def noninferior_p(diff: pd.Series, margin: float) -> float:
    """One-sided paired t-test that the mean of ``diff`` (other − reference regret) lies below +``margin``: the
    other is not worse than the reference by the margin or more. Below α exactly when the upper end of the
    1 − 2α t-interval is below the margin. NaN for one pair."""
    if len(diff) < 2:
        return np.nan
    if np.allclose(diff, diff.iloc[0]):
        return 0.0 if diff.iloc[0] < margin else 1.0
    return float(stats.ttest_1samp(diff, margin, alternative="less").pvalue)


def tost_p(diff: pd.Series, margin: float) -> float:
    """Two one-sided paired t-tests that the mean of ``diff`` lies inside ±``margin`` (Schuirmann 1987):
    the larger p. Below α exactly when the 1 − 2α t-interval lies inside the margin. NaN for one pair."""
    if len(diff) < 2:
        return np.nan
    if np.allclose(diff, diff.iloc[0]):  # no spread: the mean is known exactly
        return 0.0 if abs(diff.iloc[0]) < margin else 1.0
    above = stats.ttest_1samp(diff, -margin, alternative="greater").pvalue
    below = stats.ttest_1samp(diff, margin, alternative="less").pvalue
    return float(max(above, below))
