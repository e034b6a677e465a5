"""Statistics over the store's trials: regret at budgets, confidence intervals, ranks, Friedman/Nemenyi
(autorank), Wilcoxon signed-rank with Holm correction and TOST equivalence (scipy + statsmodels)."""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from autorank import autorank
from scipy import stats
from statsmodels.stats.multitest import multipletests

from tnasbench.report.anytime import budget_checkpoints

ALPHA = 0.05


def regret_at_budgets(curves: pd.DataFrame) -> pd.DataFrame:
    """Best-so-far regret of every trial at each checkpoint it reached: (dataset, searcher, seed, budget, regret)."""
    budgets = budget_checkpoints(int(curves["step"].max()))
    reached = curves[curves["step"].isin(budgets) & (curves["step"] <= curves["budget_evaluations"])]
    return (
        reached.rename(columns={"step": "budget"})[["dataset", "searcher", "seed", "budget", "regret"]]
        .sort_values(["dataset", "budget", "searcher", "seed"])
        .reset_index(drop=True)
    )


def summary_with_ci(at_budgets: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and the 95% t-interval half-width of regret per (dataset, budget, searcher)."""
    grouped = at_budgets.groupby(["dataset", "budget", "searcher"])["regret"]
    return grouped.agg(seeds="size", mean="mean", std="std", ci95=ci_half_width).reset_index()


def ci_half_width(values: pd.Series) -> float:
    """Half-width of the 95% t-interval of the mean; NaN for fewer than two values."""
    n = len(values)
    return float(stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / np.sqrt(n)) if n > 1 else np.nan


def ranks(at_budgets: pd.DataFrame) -> pd.DataFrame:
    """Rank of each searcher's regret per (dataset, budget, seed); 1 is best, ties share the mean rank.

    Only blocks where every searcher has a value are ranked (a partial store ranks what it can).
    """
    wide = at_budgets.pivot_table(index=["dataset", "budget", "seed"], columns="searcher", values="regret")
    complete = wide.dropna()
    ranked = complete.rank(axis=1, method="average")
    return ranked.reset_index().melt(id_vars=["dataset", "budget", "seed"], var_name="searcher", value_name="rank")


def blocks(at_budgets: pd.DataFrame) -> pd.DataFrame:
    """Blocks for the omnibus test: one row per (dataset, budget), seeds averaged first; complete rows only."""
    means = at_budgets.groupby(["dataset", "budget", "searcher"])["regret"].mean().unstack("searcher")
    return means.dropna()


@dataclass(frozen=True)
class RankTest:
    """The outcome of Friedman + Nemenyi over the blocks (autorank, non-parametric mode)."""

    blocks: int
    searchers: list[str]
    mean_ranks: dict[str, float]
    friedman_p: float
    critical_difference: float | None
    significant: bool
    result: object  # autorank's result, for its CD plot
    note: str = ""


def friedman_nemenyi(table: pd.DataFrame) -> RankTest | None:
    """autorank on ``table`` (rows = blocks, columns = searchers, values = regret; lower is better).

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
        blocks=table.shape[0],
        searchers=list(table.columns),
        mean_ranks={k: float(v) for k, v in result.rankdf["meanrank"].items()},
        friedman_p=float(result.pvalue),
        critical_difference=None if cd is None else float(cd),
        significant=bool(result.pvalue < ALPHA),
        result=result,
        note=f"{table.shape[0]} blocks = (dataset, budget) pairs, regret averaged over seeds first",
    )


def paired_comparison(at_budgets: pd.DataFrame, reference: str, margin: float | None = None) -> pd.DataFrame:
    """``reference`` vs every other searcher at each budget, paired over (dataset, seed).

    ``difference`` = mean of (other − reference) regret: positive means the reference did better;
    ``ci_low``/``ci_high`` its 95% t-interval over the pairs; ``p_holm`` the Wilcoxon signed-rank
    p-value, Holm-corrected over every row. With a ``margin`` (regret points), ``p_equivalent_holm``
    is the TOST p-value that the mean difference lies inside ±margin, Holm-corrected likewise.
    """
    wide = at_budgets.pivot_table(index=["budget", "dataset", "seed"], columns="searcher", values="regret")
    rows = []
    for budget, frame in wide.groupby(level="budget"):
        for other in [c for c in frame.columns if c != reference]:
            pair = frame[[reference, other]].dropna()
            if pair.empty:
                continue
            diff = pair[other] - pair[reference]
            p = 1.0 if np.allclose(diff, 0) else float(stats.wilcoxon(pair[other], pair[reference]).pvalue)
            half = ci_half_width(diff)  # NaN for a single pair
            row = {"budget": budget, "searcher": other, "pairs": len(pair), "difference": diff.mean()}
            row |= {"ci_low": diff.mean() - half, "ci_high": diff.mean() + half, "p": p}
            rows.append(row | ({} if margin is None else {"p_equivalent": tost_p(diff, margin)}))
    columns = ["budget", "searcher", "pairs", "difference", "ci_low", "ci_high", "p"]
    table = pd.DataFrame(rows, columns=columns + ([] if margin is None else ["p_equivalent"]))
    if table.empty:
        return table
    table["p_holm"] = multipletests(table["p"], alpha=ALPHA, method="holm")[1]
    outcome = np.where(
        table["p_holm"] >= ALPHA, "no significant difference", np.where(table["difference"] > 0, "better", "worse")
    )
    if margin is not None:
        table["p_equivalent_holm"] = multipletests(table["p_equivalent"].fillna(1.0), alpha=ALPHA, method="holm")[1]
        outcome = np.where(table["p_equivalent_holm"] < ALPHA, f"equivalent (±{margin:g})", outcome)
    table["outcome"] = outcome
    return table


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
