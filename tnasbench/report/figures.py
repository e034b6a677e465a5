"""Report figures (seaborn/matplotlib, written as PNG and SVG)."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from autorank import plot_stats  # noqa: E402

from tnasbench.report.stats import RankTest  # noqa: E402

plt.rcParams["svg.hashsalt"] = "tnasbench"  # stable element ids: regenerated figures are byte-identical


def _save(figure: plt.Figure, out: Path, stem: str) -> list[Path]:
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    figure.savefig(paths[0], dpi=120, bbox_inches="tight")
    figure.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return paths


def plot_regret(curves: pd.DataFrame, out: Path, x: str = "step") -> list[Path]:
    """Mean regret with 95% bootstrap CI over seeds, one panel per dataset."""
    sns.set_theme(style="whitegrid", context="paper")
    grid = sns.relplot(
        data=curves,
        x=x,
        y="regret",
        hue="searcher",
        col="dataset",
        kind="line",
        col_order=sorted(curves["dataset"].unique()),
        hue_order=sorted(curves["searcher"].unique()),
        errorbar=("ci", 95),
        n_boot=200,
        seed=0,
        facet_kws={"sharey": False},
        height=3.2,
    )
    for ax in grid.axes.flat:
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
    metric = " / ".join(sorted(curves["report_metric"].dropna().unique()))
    grid.set_axis_labels("evaluations" if x == "step" else "cumulative training time (s)", f"{metric} regret (pp)")
    if x != "step":
        grid.set(xscale="log")
    return _save(grid.figure, out, f"regret_vs_{'evaluations' if x == 'step' else 'cost'}")


def plot_rank_over_budget(rank_table: pd.DataFrame, out: Path) -> list[Path]:
    """Mean rank (over datasets and seeds) of each searcher at each budget; 1 is best."""
    sns.set_theme(style="whitegrid", context="paper")
    figure, ax = plt.subplots(figsize=(5.5, 3.4))
    sns.lineplot(data=rank_table, x="budget", y="rank", hue="searcher", marker="o", errorbar=None, ax=ax)
    ax.invert_yaxis()
    ax.set(xlabel="evaluations", ylabel="mean rank (1 = best)", xscale="log")
    ax.legend(fontsize=7, ncol=2)
    return _save(figure, out, "rank_over_budget")


def plot_critical_difference(test: RankTest, out: Path) -> list[Path] | str:
    """autorank's CD diagram, or the reason there is none (autorank refuses when Friedman is not significant)."""
    if not test.significant:
        return f"not significant (Friedman p = {test.friedman_p:.3g}): no critical-difference diagram"
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = plot_stats(test.result)
    ax.set_title(f"Nemenyi CD = {test.critical_difference:.2f} over {test.note}", fontsize=7)
    return _save(ax.figure, out, "critical_difference")


def plot_accuracy_vs_cost(final: pd.DataFrame, out: Path) -> list[Path]:
    """H2: final accuracy against search cost per trial; marker shape says measured or estimated cost."""
    sns.set_theme(style="whitegrid", context="paper")
    grid = sns.relplot(
        data=final.assign(cost_hours=final["cost_seconds"] / 3600),
        x="cost_hours",
        y="accuracy",
        hue="searcher",
        style="cost_kind",
        col="dataset",
        col_order=sorted(final["dataset"].unique()),
        height=3.2,
        facet_kws={"sharey": False},
    )
    grid.set(xscale="log")
    grid.set_axis_labels("search cost (hours; estimated = table training times summed)", "final accuracy (%)")
    return _save(grid.figure, out, "accuracy_vs_cost")
