"""``tnasbench report``: figures and tables from a store, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from tnasbench.errors import TnasbenchError  # noqa: E402
from tnasbench.report.anytime import (  # noqa: E402
    anytime_table,
    final_regret_table,
    finished_observations,
    markdown_table,
    regret_curves,
)
from tnasbench.store import Store  # noqa: E402


def plot_regret(curves, out: Path, x: str = "step") -> Path:
    """Mean regret with 95% bootstrap CI over seeds, one panel per dataset, log scale."""
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
    target = out / f"regret_vs_{'evaluations' if x == 'step' else 'cost'}.png"
    grid.savefig(target, dpi=120)
    plt.close(grid.figure)
    return target


def data_signatures(trials) -> dict[str, str]:
    """The data signature each dataset's trials were run on (several would mean mixed tables)."""
    found: dict[str, set[str]] = {}
    for row in trials[trials["status"] == "done"].itertuples():
        found.setdefault(row.dataset, set()).add(json.loads(row.spec)["signature"])
    mixed = [d for d, s in found.items() if len(s) > 1]
    if mixed:
        raise TnasbenchError(
            f"the store pools {mixed[0]} trials run on different tables ({' vs '.join(sorted(found[mixed[0]]))}): "
            "report each table's trials from its own store"
        )
    return {d: next(iter(s)) for d, s in found.items()}


def build_report(store_path: str | Path, out: str | Path) -> Path:
    """Write report.md, CSV tables and PNG figures for every finished trial in the store."""
    store = Store(store_path)
    trials = store.trials()
    observations = finished_observations(store.observations())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves = regret_curves(observations)
    summary = final_regret_table(observations)
    anytime = anytime_table(curves)
    summary.to_csv(out / "final_regret.csv", index=False, float_format="%.4f")
    anytime.to_csv(out / "anytime_regret.csv", index=False, float_format="%.4f")
    figures = [plot_regret(curves, out), plot_regret(curves, out, x="cumulative_cost")]
    metrics = observations[["dataset", "objective_metric", "report_metric"]].drop_duplicates().sort_values("dataset")
    counts = trials["status"].value_counts().to_dict()
    provenance = json.loads(trials["provenance"].dropna().iloc[-1]) if trials["provenance"].notna().any() else {}
    lines = [
        f"# tnasbench report: {', '.join(sorted(trials['suite'].unique()))}",
        "",
        f"Store `{Path(store_path).name}`: {counts.get('done', 0)} trials done, {counts.get('failed', 0)} failed, "
        f"{counts.get('running', 0)} unfinished.",
        "",
        "Regret = optimum of the report metric − report metric of the incumbent, where the incumbent is "
        "the best cell by the objective the searcher saw.",
        "",
        "| dataset | searchers saw | report scores |",
        "| --- | --- | --- |",
        *[f"| {r.dataset} | {r.objective_metric} | {r.report_metric} |" for r in metrics.itertuples()],
        "",
        "## Final regret",
        "",
        markdown_table(summary),
        "",
        "## Anytime regret (mean over seeds)",
        "",
        anytime.to_markdown(index=False, floatfmt=".3f"),
        "",
        *[f"![{f.stem}]({f.name})" for f in figures],
        "",
        "## Provenance",
        "",
        "Data checksums (sha256 prefixes of the table columns) per dataset:",
        "",
        *[f"- {d}: `{s}`" for d, s in sorted(data_signatures(trials).items())],
        "",
        "```",
        json.dumps(provenance, indent=1, sort_keys=True),
        "```",
        "",
    ]
    failed = trials[trials["status"] == "failed"]
    if len(failed):
        lines += [
            "## Failed trials",
            "",
            *[f"- {r.label} on {r.dataset}, seed {r.seed}: {r.error}" for r in failed.itertuples()],
            "",
        ]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    store.close()
    return report
