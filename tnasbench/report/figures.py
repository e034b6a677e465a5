"""Report figures (seaborn/matplotlib, PNG and SVG): one style per searcher, families share a hue."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from autorank import plot_stats  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from tnasbench.report.stats import RankTest  # noqa: E402

plt.rcParams["svg.hashsalt"] = "tnasbench"  # stable element ids: regenerated figures are byte-identical
DASHES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 3))]  # a family's variants: up to six told apart
MARKERS = ["o", "s", "^", "D", "v", "P"]
FAMILIES = ("tnas", "botorch", "transfer", "rgpe", "fsbo", "metad2a", "hebo", "bananas", "nasbowl",
            "regularized-evolution", "random-search", "local-search", "gdas", "drnas", "setn", "pc-darts")  # fmt: skip
# One distinct hue per family, most salient first: tab10's ten, then six more that none of them resembles
# (tab20 would pair each tab10 hue with a paler one of the same hue, and families would share a colour).
HUES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        "#000000", "#00897b", "#ad1457", "#f9a825", "#1a237e", "#4e342e")  # fmt: skip


def family(label: str) -> str:
    """The family a searcher label belongs to (its name's first part for tnas-*, botorch-*, ...)."""
    return next((f for f in FAMILIES if label == f or label.startswith(f"{f}-")), label)


def styles(labels: list[str]) -> dict[str, dict]:
    """Colour, dash and marker per label: one hue per family, variants told apart by dash and marker."""
    labels = sorted(labels)
    families = sorted({family(s) for s in labels}, key=lambda f: (FAMILIES.index(f) if f in FAMILIES else 99, f))
    extra = sns.color_palette("husl", max(0, len(families) - len(HUES)))  # beyond 16 families: evenly spaced hues
    palette = dict(zip(families, [*HUES, *extra], strict=False))
    result, seen = {}, {}
    for label in labels:
        k = seen[family(label)] = seen.get(family(label), -1) + 1
        result[label] = {
            "color": palette[family(label)],
            "linestyle": DASHES[k % len(DASHES)],
            "marker": MARKERS[k % len(MARKERS)],
        }
    return result


def _save(figure: plt.Figure, out: Path, stem: str) -> list[Path]:
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    bbox = figure.get_tightbbox().padded(0.1)  # "tight" once for both formats (each save would lay it out again)
    figure.savefig(paths[0], dpi=120, bbox_inches=bbox)
    figure.savefig(paths[1], bbox_inches=bbox, metadata={"Date": None})
    plt.close(figure)
    return paths


BAND = "± one standard error over seeds"  # the curves' bands; the tables give 95% t-intervals


def _mean_interval(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean of ``y`` over trials at each ``x`` ± one standard error (none for one trial). With 3 seeds a 95%
    t-interval is 4.3 standard errors wide each side: a dozen such bands hide every curve, so the figures
    draw the standard error (NAS benchmarks' convention) and the tables carry the intervals."""
    grouped = frame.groupby(x)[y]
    mean, sd, n = grouped.mean(), grouped.std(), grouped.count()
    half = sd / np.sqrt(n)
    return pd.DataFrame({"mean": mean, "low": mean - half.fillna(0), "high": mean + half.fillna(0)})


def _legend(figure: plt.Figure, look: dict[str, dict]) -> None:
    handles = [plt.Line2D([], [], label=s, **look[s]) for s in look]
    figure.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8)


WRAP = 4  # the most task panels in one row: more tasks wrap onto further rows


def _grid(blocks: int, datasets: list[str]) -> tuple[plt.Figure, dict[tuple[int, str], plt.Axes]]:
    """One panel per (block, task), keyed so: the tasks of a block fill rows of at most ``WRAP`` panels
    (7 tasks: 4 + 3), blocks (a second metric) stack below; slots left over are removed."""
    sns.set_theme(style="whitegrid", context="paper")
    task_rows = -(-len(datasets) // WRAP)
    columns = -(-len(datasets) // task_rows)
    rows = blocks * task_rows
    figure, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.9 * rows), squeeze=False)
    panels = {
        (block, dataset): axes[block * task_rows + i // columns, i % columns]
        for block in range(blocks)
        for i, dataset in enumerate(datasets)
    }
    used = {id(ax) for ax in panels.values()}
    for ax in axes.flat:
        if id(ax) not in used:
            ax.remove()
    return figure, panels


def _first_column(ax: plt.Axes) -> bool:
    return ax.get_subplotspec().is_first_col()


def plot_regret(curves: pd.DataFrame, out: Path) -> list[Path]:
    """Mean regret (band: ``BAND``) against evaluations: the report metric (the task's ceiling
    regret dashed: what finding the searched metric's optimum leaves) and, where searchers saw another
    metric, that one in a second row, per task."""
    datasets = sorted(curves["dataset"].unique())
    look = styles(list(curves["searcher"].unique()))
    metrics = [("regret", "report_metric"), ("objective_regret", "objective_metric")]
    searched_other = (curves["objective_metric"] != curves["report_metric"]).any()
    metrics = [m for m in metrics[: 2 if searched_other else 1] if curves[m[0]].notna().any()]
    figure, panels = _grid(len(metrics), datasets)
    for row, (value, metric) in enumerate(metrics):
        for dataset in datasets:
            ax, part = panels[row, dataset], curves[curves["dataset"] == dataset]
            for searcher, frame in part.groupby("searcher"):
                line = _mean_interval(frame, "step", value)
                ax.plot(line.index, line["mean"], lw=1.2, markevery=max(1, len(line) // 6), ms=3, **look[searcher])
                ax.fill_between(line.index, line["low"], line["high"], color=look[searcher]["color"], alpha=0.1, lw=0)
            if value == "regret":
                _ceiling_line(ax, part)
            _regret_axis(ax, part[value])
            ax.set_title(dataset, fontsize=9)
            ax.set_xlabel("evaluations" if row == len(metrics) - 1 else "")
            shared = curves[metric].nunique() == 1  # one metric: label the first column only
            ax.set_ylabel(f"{part[metric].iloc[0]} regret" if _first_column(ax) or not shared else "")
    _legend(figure, look)
    figure.tight_layout()
    return _save(figure, out, "regret_vs_evaluations")


def _ceiling_line(ax: plt.Axes, curves: pd.DataFrame) -> None:
    """The task's ceiling regret, dashed: what finding the searched metric's optimum leaves on the report metric."""
    ceiling = curves["ceiling_regret"].dropna()
    if len(ceiling):
        ax.axhline(ceiling.iloc[0], color="0.3", lw=0.8, ls=(0, (4, 3)))


def cost_grid(curves: pd.DataFrame, points: int = 60) -> pd.DataFrame:
    """Each trial's regret as a step function of its cumulative cost, read on one log-spaced grid per task
    (from the median first-evaluation cost to the longest trial's total), so seeds average at equal cost."""
    frames = []
    for dataset, part in curves.dropna(subset=["cumulative_cost"]).groupby("dataset"):
        cost = part.pivot(index="trial", columns="step", values="cumulative_cost")
        regret = part.pivot(index="trial", columns="step", values="regret").to_numpy()
        if not np.nanmax(cost.to_numpy()) > 0:  # a benchmark without evaluation cost has no cost axis
            continue
        first = float(np.nanmedian(cost.iloc[:, 0]))
        grid = np.geomspace(max(first, 1e-6), max(float(np.nanmax(cost.to_numpy())), first * 1.01), points)
        steps = (cost.to_numpy()[:, :, None] <= grid[None, None, :]).sum(axis=1)  # evaluations done by each cost
        rows = np.arange(len(cost))[:, None]
        values = np.where(steps > 0, regret[rows, (steps - 1).clip(0)], np.nan)  # [trials, points]
        searcher = part.groupby("trial")["searcher"].first().reindex(cost.index).to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "dataset": dataset,
                    "searcher": np.repeat(searcher, points),
                    "cost": np.tile(grid, len(cost)),
                    "regret": values.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset", "searcher", "cost"])


def plot_regret_vs_cost(curves: pd.DataFrame, out: Path) -> list[Path]:
    """Mean regret (band: ``BAND``) against cumulative evaluation cost on a common grid per task, with the task's
    ceiling regret dashed."""
    grid = cost_grid(curves)
    if grid.empty:  # no task has an evaluation cost
        return []
    grid = grid.dropna(subset=["regret"])
    datasets = sorted(grid["dataset"].unique())
    look = styles(list(curves["searcher"].unique()))
    figure, panels = _grid(1, datasets)
    for dataset in datasets:
        ax = panels[0, dataset]
        for searcher, frame in grid[grid["dataset"] == dataset].groupby("searcher"):
            line = _mean_interval(frame, "cost", "regret")
            ax.step(line.index / 3600, line["mean"], where="post", lw=1.2, **(look[searcher] | {"marker": None}))
            ax.fill_between(line.index / 3600, line["low"], line["high"], step="post", alpha=0.1, lw=0,
                            color=look[searcher]["color"])  # fmt: skip
        ax.set_xscale("log")
        _plain_ticks(ax)
        _ceiling_line(ax, curves[curves["dataset"] == dataset])
        _regret_axis(ax, grid.loc[grid["dataset"] == dataset, "regret"])
        metric = curves.loc[curves["dataset"] == dataset, "report_metric"].iloc[0]
        ax.set(title=dataset, xlabel="cumulative evaluation cost (hours)")
        shared = curves["report_metric"].nunique() == 1
        ax.set_ylabel(f"{metric} regret" if _first_column(ax) or not shared else "")
    _legend(figure, look)
    figure.tight_layout()
    return _save(figure, out, "regret_vs_cost")


def _plain_ticks(ax: plt.Axes) -> None:
    """Log-axis ticks at 1, 2, 5 × powers of ten (only at powers of ten beyond two decades), written as plain
    numbers (not 3×10¹)."""
    low, high = ax.get_xlim()
    span = np.log10(high / low) if low > 0 else 0.0
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if span <= 2 else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_rank_over_budget(rank_table: pd.DataFrame, out: Path) -> list[Path]:
    """Mean rank (over tasks and seeds) of each searcher at each checkpoint; 1 is best."""
    sns.set_theme(style="whitegrid", context="paper")
    look = styles(list(rank_table["searcher"].unique()))
    budgets = sorted(rank_table["budget"].unique())
    figure, ax = plt.subplots(figsize=(5.5, 3.4))
    means = rank_table.groupby(["searcher", "budget"])["rank"].mean()
    for searcher in look:
        values = means[searcher].reindex(budgets)
        ax.plot(range(len(budgets)), values.to_numpy(), ms=4, lw=1.2, **look[searcher])
    ax.set_xticks(range(len(budgets)), [str(b) for b in budgets])
    ax.invert_yaxis()
    ax.set(xlabel="evaluations", ylabel="mean rank (1 = best)")
    _legend(figure, look)
    return _save(figure, out, "rank_over_budget")


def plot_critical_difference(test: RankTest, out: Path) -> list[Path]:
    """autorank's CD diagram for one budget; where Friedman is not significant the title says so (the
    mean ranks are still worth seeing, and no pair's difference is then claimed)."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = plot_stats(test.result, allow_insignificant=True)
    verdict = "" if test.significant else f"; Friedman p = {test.friedman_p:.2g}, not significant: no pair differs"
    cd = f"{test.critical_difference:.2f}" if test.critical_difference is not None else "n/a"
    title = f"{test.budget} evaluations: Nemenyi CD = {cd}, {test.note}{verdict}"
    ax.set_title(title, fontsize=7)
    return _save(ax.figure, out, f"critical_difference_{test.budget}")


def plot_accuracy_vs_cost(final: pd.DataFrame, out: Path) -> list[Path]:
    """H2: final accuracy against search cost per trial; marker fill says how the cost was obtained."""
    datasets = sorted(final["dataset"].unique())
    look = styles(list(final["searcher"].unique()))
    figure, panels = _grid(1, datasets)
    kinds = sorted(final["cost_kind"].unique())
    for dataset in datasets:
        ax = panels[0, dataset]
        for (searcher, kind), group in final[final["dataset"] == dataset].groupby(["searcher", "cost_kind"]):
            colour = look[searcher]["color"]
            ax.scatter(group["cost_seconds"] / 3600, group["accuracy"], s=18, marker=look[searcher]["marker"],
                       facecolors="none" if kinds.index(kind) > 0 else colour, edgecolors=colour)  # fmt: skip
        hours = final.loc[final["dataset"] == dataset, "cost_seconds"] / 3600
        if hours.min() > 0 and hours.max() / hours.min() > 4:  # a log axis only where costs span a wide range
            ax.set_xscale("log")
            _plain_ticks(ax)
        ax.tick_params(axis="x", labelrotation=30)
        metric = final.loc[final["dataset"] == dataset, "report_metric"].iloc[0]
        shared = final["report_metric"].nunique() == 1  # one metric: label the first column only
        ylabel = f"incumbent's final {metric}" if _first_column(ax) or not shared else ""
        ax.set(title=dataset, xlabel="search cost (hours)", ylabel=ylabel)
    _legend(figure, {s: v | {"linestyle": "none"} for s, v in look.items()})
    if len(kinds) > 1:
        figure.text(0.01, -0.02, f"filled: {kinds[0]} cost; hollow: {', '.join(kinds[1:])}", fontsize=7)
    figure.tight_layout()
    return _save(figure, out, "accuracy_vs_cost")


def _regret_axis(ax: plt.Axes, regrets: pd.Series) -> None:
    """Symlog from 0 where regret spans decades (a search that closes in on the optimum); linear around the
    data where it stays within one decade far from 0 (e.g. regret from 100 % on a live task whose optimum is
    unknown), so the searchers' differences are visible."""
    values = regrets.dropna()
    if len(values) and values.min() > 1 and values.max() < 10 * values.min():
        return
    ax.set_yscale("symlog", linthresh=linear_below(values))
    ax.set_ylim(bottom=0)


def linear_below(regrets: pd.Series) -> float:
    """Where a symlog regret axis turns linear: the power of ten at or below the 5th percentile of the positive
    regrets (a task scored 0-1 like SSIM gets 0.001 where accuracy in % gets 0.1), never above 0.1."""
    positive = regrets[regrets > 0]
    if positive.empty:
        return 0.1
    return float(min(0.1, 10.0 ** np.floor(np.log10(positive.quantile(0.05)))))
