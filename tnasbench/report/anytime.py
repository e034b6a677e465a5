"""Anytime regret: scores per observation, curves per trial, the checkpoints they are compared at."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # anytime checkpoints, as fractions of the suite's evaluation budget
SCALE = ("floor", "objective_optimum", "objective_floor", "ceiling")  # per trial, beside the stored optimum


def checkpoints(budget: int) -> list[int]:
    """The evaluation counts a run of ``budget`` evaluations is compared at: 10%, 25%, 50% and 100% of it."""
    return sorted({max(1, math.floor(f * budget + 0.5)) for f in FRACTIONS})


def declared_budgets(budget: int) -> list[int]:
    """The budgets verdicts are judged at (fixed before the data): the final budget and its half."""
    return sorted({max(1, math.floor(budget / 2 + 0.5)), budget})


def with_scores(observations: pd.DataFrame) -> pd.DataFrame:
    """Observations with the incumbent's regret on both metrics, and the report regret normalised per task.

    ``normalised_regret`` = regret / (optimum − floor): 0 at the task's best cell, 1 at its worst, so
    tasks on other scales pool. ``objective_regret`` = the objective's optimum − the incumbent's objective
    (the incumbent: the best full-fidelity cell so far; undefined before the first one).
    """
    frame = observations.copy()
    for column in SCALE:
        if column not in frame:
            frame[column] = np.nan  # a store from before scales were recorded: raw regret only
    frame["normalised_regret"] = frame["regret"] / (frame["optimum"] - frame["floor"])
    by_trial = frame.groupby("trial")
    full = by_trial["epochs"].transform("max")
    seen = frame["objective"].where(frame["epochs"] == full)
    best = seen.groupby(frame["trial"]).cummax().groupby(frame["trial"]).ffill()
    frame["objective_regret"] = frame["objective_optimum"] - best
    frame["ceiling_regret"] = frame["optimum"] - frame["ceiling"]
    return frame


def regret_curves(observations: pd.DataFrame) -> pd.DataFrame:
    """Regret after every evaluation, per (dataset, budget, searcher, seed), padded to the longest trial.

    A trial that stopped early (a seconds budget) keeps its last regret for later steps.
    """
    columns = [
        "trial", "dataset", "searcher", "seed", "budget_evaluations", "report_metric", "objective_metric", "step",
        "regret", "normalised_regret", "objective_regret", "ceiling_regret",
    ]  # fmt: skip
    scored = with_scores(observations)
    curves = scored[columns].assign(cumulative_cost=scored.groupby("trial")["cost_seconds"].cumsum())
    longest = int(curves["step"].max())
    grid = pd.MultiIndex.from_product([curves["trial"].unique(), range(1, longest + 1)], names=["trial", "step"])
    padded = curves.set_index(["trial", "step"]).reindex(grid)
    return padded.groupby(level="trial").ffill().reset_index()


def trial_budgets(curves: pd.DataFrame) -> pd.Series:
    """Each trial's evaluation budget (its last step where the suite set a time budget instead)."""
    last = curves.dropna(subset=["regret"]).groupby("trial")["step"].max()
    declared = curves.groupby("trial")["budget_evaluations"].first()
    return declared.fillna(last).astype(int)


def final_trials(observations: pd.DataFrame) -> pd.DataFrame:
    """One row per trial: its last observation, the incumbent's accuracy and the summed search cost."""
    last = with_scores(observations).sort_values("step").groupby("trial").tail(1)
    cost = observations.groupby("trial")["cost_seconds"].sum().rename("cost_seconds")
    final = last.drop(columns="cost_seconds").join(cost, on="trial")
    return final.assign(accuracy=final["optimum"] - final["regret"], evaluations=final["step"])


def final_regret_table(observations: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of the final regret (both metrics, and normalised) and the incumbent's reported accuracy."""
    summary = (
        final_trials(observations)
        .groupby(["dataset", "searcher"])
        .agg(
            trials=("regret", "size"),
            evaluations=("step", "mean"),
            regret_mean=("regret", "mean"),
            regret_std=("regret", "std"),
            normalised_regret_mean=("normalised_regret", "mean"),
            objective_regret_mean=("objective_regret", "mean"),
            accuracy_mean=("accuracy", "mean"),
            accuracy_std=("accuracy", "std"),
            optimum=("optimum", "first"),
            ceiling=("ceiling", "first"),
        )
        .reset_index()
    )
    return summary.fillna({"regret_std": 0.0, "accuracy_std": 0.0})


def markdown_table(summary: pd.DataFrame) -> str:
    lines = [
        "| dataset | searcher | trials | evaluations | final regret (mean ± std) | normalised | objective regret "
        "| accuracy of incumbent | optimum |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary.itertuples():
        lines.append(
            f"| {row.dataset} | {row.searcher} | {row.trials} | {row.evaluations:.0f} | "
            f"{row.regret_mean:.3f} ± {row.regret_std:.3f} | {_number(row.normalised_regret_mean, 4)} | "
            f"{_number(row.objective_regret_mean, 3)} | {row.accuracy_mean:.2f} ± {row.accuracy_std:.2f} | "
            f"{row.optimum:.2f} |"
        )
    return "\n".join(lines)


def _number(value: float, digits: int) -> str:
    return "–" if pd.isna(value) else f"{value:.{digits}f}"
