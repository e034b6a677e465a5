"""``tnasbench report``: statistics, verdicts, tables and figures from a store, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tnasbench.errors import TnasbenchError
from tnasbench.report.anytime import final_regret_table, final_trials, markdown_table, regret_curves
from tnasbench.report.figures import (
    plot_accuracy_vs_cost,
    plot_critical_difference,
    plot_rank_over_budget,
    plot_regret,
)
from tnasbench.report.html import write_index
from tnasbench.report.hypotheses import TNAS, Verdict, h1, h2, h3
from tnasbench.report.stats import (
    blocks,
    friedman_nemenyi,
    paired_comparison,
    ranks,
    regret_at_budgets,
    summary_with_ci,
)
from tnasbench.report.tables import table1, table2, to_latex
from tnasbench.space import nb201_space
from tnasbench.store import Store


def data_signatures(trials: pd.DataFrame) -> dict[str, str]:
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


def trial_facts(trials: pd.DataFrame) -> pd.DataFrame:
    """Per trial (parsed once, not per observation): its searcher's recorded facts, whether it was a
    one-shot search, and whether its cost is measured (real training, a timed search) or estimated."""
    info = [json.loads(text) if isinstance(text, str) else {} for text in trials["searcher_info"]]
    measured = [
        i.get("cost_kind") == "measured" or b == "nb201-live" for i, b in zip(info, trials["benchmark"], strict=True)
    ]
    return pd.DataFrame(
        {
            "trial": trials["key"],
            "one_shot": [bool(i.get("one_shot")) for i in info],
            "cost_kind": ["measured" if m else "estimated" for m in measured],
            "info": info,
        }
    )


def _status_lines(trials: pd.DataFrame) -> list[str]:
    counts = trials["status"].value_counts().to_dict() if len(trials) else {}
    superseded = counts.get("superseded", 0)
    lines = [
        f"{counts.get('done', 0)} trials done, {counts.get('failed', 0)} failed, {counts.get('running', 0)} running, "
        f"{counts.get('interrupted', 0)} interrupted"
        + (f", {superseded} superseded by a later run of the same trial (kept, not counted)." if superseded else ".")
    ]
    unfinished = trials[trials["status"].isin(["failed", "running", "interrupted"])]
    if len(unfinished):
        missing = unfinished.groupby(["label", "dataset", "status"]).size().reset_index(name="trials")
        lines += ["", "Not in the statistics below (re-run the suite to finish them):", ""]
        lines += [f"- {r.label} on {r.dataset}: {r.trials} {r.status}" for r in missing.itertuples()]
    return lines


def _verdict_lines(verdict: Verdict) -> list[str]:
    return [f"### {verdict.hypothesis}: {verdict.verdict}", "", f"*{verdict.claim}.*", ""] + [
        f"- {reason}" for reason in verdict.reasons
    ]


def build_report(
    store_path: str | Path, out: str | Path, reference: str | None = None, margin: float | None = None
) -> Path:
    """Write report.md, index.html, CSV/Markdown/LaTeX tables and PNG/SVG figures for a store.

    ``reference``: the searcher every other one is paired against (default ``tnas`` when stored);
    ``margin``: regret points within which a paired difference counts as equivalent (TOST).
    """
    if margin is not None and not margin > 0:
        raise TnasbenchError(f"--margin must be a positive number of regret points, got {margin}: try --margin 0.25")
    store = Store(store_path)
    trials, observations = store.progress(), store.observations()
    store.close()
    observations = observations[observations["trial"].isin(trials.loc[trials["status"] == "done", "key"])]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"# tnasbench report: {', '.join(sorted(trials['suite'].unique())) or 'empty store'}"
    lines = [title, "", f"Store `{Path(store_path).name}`: " + _status_lines(trials)[0], *_status_lines(trials)[1:], ""]
    if observations.empty:
        lines += ["No finished trials yet: run `tnasbench run SUITE --store STORE`, then report again.", ""]
        return _write(out, lines, trials, [])

    facts = trial_facts(trials)
    observations = observations.merge(facts[["trial", "one_shot", "cost_kind"]], on="trial", how="left")
    one_shot = observations[observations["one_shot"]]
    anytime = observations[~observations["one_shot"]]  # a one-shot search has one result, no trajectory
    if anytime.empty:
        lines += ["Only one-shot trials: no anytime statistics (they need black-box searchers).", ""]
        anytime = observations
    curves = regret_curves(anytime)
    at_budgets = regret_at_budgets(curves)
    summary = summary_with_ci(at_budgets)
    rank_table = ranks(at_budgets)
    rank_test = friedman_nemenyi(blocks(at_budgets))
    final = final_trials(observations)
    present = set(at_budgets["searcher"])
    if reference is not None and reference not in present:
        raise TnasbenchError(
            f"--reference {reference!r} has no finished trials in {store_path}: pick one of {sorted(present)}"
        )
    reference = reference or (TNAS if TNAS in present else None)
    if margin is not None and reference is None:
        raise TnasbenchError(
            f"--margin needs a paired comparison, and {store_path} has no {TNAS} trials: add --reference NAME"
        )
    paired = paired_comparison(at_budgets, reference, margin) if reference else None
    verdicts = [h1(at_budgets), h2(final), h3(rank_table, set(at_budgets["dataset"]))]
    first, second = table1(summary), table2(final)

    files = {
        "final_regret.csv": final_regret_table(observations),
        "anytime_regret.csv": summary,
        "ranks.csv": rank_table,
        "table1.csv": first,
        "table2.csv": second,
    }
    if paired is not None:
        files["paired.csv"] = paired.assign(reference=reference)
    for name, frame in files.items():
        frame.to_csv(out / name, index=False, float_format="%.4f")
    (out / "table1.tex").write_text(to_latex(first, "Anytime regret (mean ± std over seeds)"))
    (out / "table2.tex").write_text(to_latex(second, "Final accuracy and search cost"))
    verdict_rows = [
        {"hypothesis": v.hypothesis, "verdict": v.verdict, "reasons": " | ".join(v.reasons)} for v in verdicts
    ]
    pd.DataFrame(verdict_rows).to_csv(out / "verdicts.csv", index=False)

    figures = [*plot_regret(curves, out), *plot_regret(curves, out, x="cumulative_cost")]
    if not rank_table.empty:
        figures += plot_rank_over_budget(rank_table, out)
    cd = plot_critical_difference(rank_test, out) if rank_test else "no omnibus test"
    figures += cd if isinstance(cd, list) else []
    figures += plot_accuracy_vs_cost(final, out)

    metrics = observations[["dataset", "objective_metric", "report_metric"]].drop_duplicates().sort_values("dataset")
    lines += [
        "Regret = optimum of the report metric − report metric of the incumbent, the incumbent being the best "
        "cell by the objective the searcher saw.",
        "",
        "| dataset | searchers saw | report scores |",
        "| --- | --- | --- |",
        *[f"| {r.dataset} | {r.objective_metric} | {r.report_metric} |" for r in metrics.itertuples()],
        "",
        "## Hypotheses (verdicts computed from the data)",
        "",
        *[line for v in verdicts for line in (*_verdict_lines(v), "")],
        "## Table 1: anytime regret (mean ± std over seeds)",
        "",
        first.to_markdown(index=False),
        "",
        "## Table 2: final accuracy and search cost",
        "",
        "Search cost: *estimated* = sum over evaluated cells of the table's training time (a tabular run costs "
        "nothing real); *measured* = wall clock of real training or a one-shot search. Published figures: TNAS "
        "(ICLR 2023) Table 2, ± = 95% t-interval over 3 seeds.",
        "",
        second.to_markdown(index=False),
        "",
        "## Final regret",
        "",
        markdown_table(files["final_regret.csv"]),
        "",
        *_one_shot_lines(one_shot, dict(zip(facts["trial"], facts["info"], strict=True))),
        *_paired_lines(paired, reference, margin),
        "## Ranks and critical differences",
        "",
        *_rank_lines(rank_test, cd),
        "",
        *[f"![{f.stem}]({f.name})" for f in figures if f.suffix == ".png"],
        "",
        "## Provenance",
        "",
        "Data checksums (sha256 prefixes of the table columns) per dataset:",
        "",
        *[f"- {d}: `{s}`" for d, s in sorted(data_signatures(trials).items())],
        "",
        "```",
        json.dumps(_provenance(trials), indent=1, sort_keys=True),
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
    return _write(out, lines, trials, figures)


def _one_shot_lines(one_shot: pd.DataFrame, info_of: dict[str, dict]) -> list[str]:
    if one_shot.empty:
        return []
    lines = ["## One-shot searches (cost measured on the device named)", ""]
    space = nb201_space()
    for row in one_shot.sort_values(["dataset", "searcher", "seed"]).itertuples():
        info = info_of[row.trial]
        lines.append(
            f"- {row.searcher} on {row.dataset}, seed {row.seed}: derived `{space.arch(int(row.arch))}`, "
            f"{row.report_metric} {row.reported:.2f}, search {info['search_seconds']:.1f} s on {info['device']}"
        )
    return [*lines, ""]


def _paired_lines(paired: pd.DataFrame | None, reference: str | None, margin: float | None) -> list[str]:
    if paired is None or paired.empty:
        return []
    table = pd.DataFrame(
        {
            "budget": paired["budget"],
            "searcher": paired["searcher"],
            "pairs": paired["pairs"],
            "regret difference [95% CI]": [
                f"{r.difference:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]" for r in paired.itertuples()
            ],
            "p (Holm)": paired["p_holm"].map("{:.3g}".format),
        }
    )
    if margin is not None:
        table[f"p equivalent ±{margin:g} (Holm)"] = paired["p_equivalent_holm"].map("{:.3g}".format)
    table["outcome"] = paired["outcome"]
    equivalence = (
        []
        if margin is None
        else [
            f"Equivalence (`--margin {margin:g}`): two one-sided paired t-tests (TOST) that the mean difference lies "
            f"inside ±{margin:g} regret points, Holm-corrected; significant exactly when the 90% t-interval lies "
            "inside the margin. A row that is not equivalent and not significantly different is inconclusive.",
            "",
        ]
    )
    return [
        f"## Paired comparison with {reference}",
        "",
        f"Difference = other − {reference} regret, paired over (dataset, seed): positive means {reference} did "
        "better. Wilcoxon signed-rank, Holm-corrected over every row (`--reference` picks another searcher).",
        "",
        *equivalence,
        table.to_markdown(index=False),
        "",
    ]


def _rank_lines(test, cd) -> list[str]:
    if test is None:
        return ["No Friedman test: it needs 3 searchers or more and 5 complete (dataset, budget) blocks."]
    ranks_text = ", ".join(f"{s} {r:.2f}" for s, r in sorted(test.mean_ranks.items(), key=lambda item: item[1]))
    lines = [
        f"Friedman test over {test.note}: p = {test.friedman_p:.3g}.",
        f"Mean ranks (1 = best): {ranks_text}.",
    ]
    if test.critical_difference is not None:
        lines.append(f"Nemenyi critical difference: {test.critical_difference:.2f}.")
    if isinstance(cd, str):
        lines.append(f"Critical-difference diagram: {cd}.")
    return lines


def _provenance(trials: pd.DataFrame) -> dict:
    return json.loads(trials["provenance"].dropna().iloc[-1]) if trials["provenance"].notna().any() else {}


def _write(out: Path, lines: list[str], trials: pd.DataFrame, figures: list[Path]) -> Path:
    report = out / "report.md"
    report.write_text("\n".join(lines))
    write_index(out, "\n".join(lines), _provenance(trials))
    return report
