"""Anytime regret: curves per searcher and the final-regret table (reads the store only)."""

from __future__ import annotations

import pandas as pd


def regret_curves(observations: pd.DataFrame) -> pd.DataFrame:
    """Regret after every evaluation, per (dataset, budget, searcher, seed), padded to the longest trial.

    A trial that stopped early (a seconds budget) keeps its last regret for later steps.
    """
    columns = ["trial", "dataset", "searcher", "seed", "budget_evaluations", "report_metric", "step", "regret"]
    curves = observations[columns].assign(cumulative_cost=observations.groupby("trial")["cost_seconds"].cumsum())
    longest = int(curves["step"].max())
    grid = pd.MultiIndex.from_product([curves["trial"].unique(), range(1, longest + 1)], names=["trial", "step"])
    padded = curves.set_index(["trial", "step"]).reindex(grid)
    return padded.groupby(level="trial").ffill().reset_index()


def final_trials(observations: pd.DataFrame) -> pd.DataFrame:
    """One row per trial: its last observation, the incumbent's accuracy and the summed search cost."""
    last = observations.sort_values("step").groupby("trial").tail(1)
    cost = observations.groupby("trial")["cost_seconds"].sum().rename("cost_seconds")
    final = last.drop(columns="cost_seconds").join(cost, on="trial")
    return final.assign(accuracy=final["optimum"] - final["regret"], evaluations=final["step"])


def final_regret_table(observations: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of the final regret and the incumbent's reported accuracy, per dataset and searcher."""
    summary = (
        final_trials(observations)
        .groupby(["dataset", "searcher"])
        .agg(
            trials=("regret", "size"),
            evaluations=("step", "mean"),
            regret_mean=("regret", "mean"),
            regret_std=("regret", "std"),
            accuracy_mean=("accuracy", "mean"),
            accuracy_std=("accuracy", "std"),
            optimum=("optimum", "first"),
        )
        .reset_index()
    )
    return summary.fillna({"regret_std": 0.0, "accuracy_std": 0.0})


def markdown_table(summary: pd.DataFrame) -> str:
    lines = [
        "| dataset | searcher | trials | evaluations | final regret (mean ± std) | accuracy of incumbent | optimum |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary.itertuples():
        lines.append(
            f"| {row.dataset} | {row.searcher} | {row.trials} | {row.evaluations:.0f} | "
            f"{row.regret_mean:.3f} ± {row.regret_std:.3f} | {row.accuracy_mean:.2f} ± {row.accuracy_std:.2f} | "
            f"{row.optimum:.2f} |"
        )
    return "\n".join(lines)


def budget_checkpoints(longest: int) -> list[int]:
    """The paper's checkpoints (10/25/50/100 evaluations, and longer) that a run of ``longest`` steps reached."""
    points = [p for p in (10, 25, 50, 100, 200, 500) if p <= longest]
    return points or [longest]
