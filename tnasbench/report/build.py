"""``tnasbench report``: statistics, verdicts, tables and figures from a store, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tnasbench.errors import TnasbenchError
from tnasbench.report.anytime import (
    SCALE,
    declared_budgets,
    final_regret_table,
    final_trials,
    markdown_table,
    regret_curves,
    trial_budgets,
)
from tnasbench.report.figures import (
    BAND,
    plot_accuracy_vs_cost,
    plot_critical_difference,
    plot_rank_over_budget,
    plot_regret,
    plot_regret_vs_cost,
)
from tnasbench.report.html import write_index
from tnasbench.report.hypotheses import TNAS, Verdict, h1, h1_transfer, h2, h3
from tnasbench.report.stats import (
    POOLED_POINTS,
    blocks,
    friedman_nemenyi,
    on_every_benchmark,
    paired_comparison,
    ranks,
    regret_at_budgets,
    summary_with_ci,
)
from tnasbench.report.tables import table1, table2, task_scales, to_latex
from tnasbench.space import nb201_space
from tnasbench.store import Store

CD_FRACTIONS = (0.25, 0.5, 1.0)  # a critical-difference diagram at each of these shares of the budget


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
    one-shot search, whether its evaluation cost is measured (real training, a timed search) or estimated,
    the task's scale, and the searcher's own measured compute (setup, ask/tell, meta-training)."""
    info = [json.loads(text) if isinstance(text, str) else {} for text in trials["searcher_info"]]
    measured = [i.get("cost_kind") == "measured" or _is_live(b) for i, b in zip(info, trials["benchmark"], strict=True)]
    compute = [i.get("compute", {}) for i in info]
    facts = pd.DataFrame(
        {
            "trial": trials["key"],
            "one_shot": [bool(i.get("one_shot")) for i in info],
            "cost_kind": ["measured" if m else "estimated" for m in measured],
            "setup_seconds": [c.get("setup_seconds", 0.0) for c in compute],
            "ask_tell_seconds": [c.get("ask_tell_seconds", 0.0) for c in compute],
            "meta_seconds": [float(i.get("meta_seconds", 0.0)) for i in info],
            "meta_cache_hit": [i.get("cache") == "hit" for i in info],
            "meta_key": [i.get("cache_key") for i in info],
            "runner": trials["owner"].fillna("").astype(str) if "owner" in trials else "",
            "info": info,
        }
    )
    for column in SCALE:
        facts[column] = [i.get("scale", {}).get(column, float("nan")) for i in info]
    # meta-training counted whole in every trial that used it (a cache hit paid it elsewhere), and amortised
    facts["searcher_seconds"] = facts["setup_seconds"] + facts["ask_tell_seconds"]
    facts["searcher_seconds"] += facts["meta_seconds"].where(facts["meta_cache_hit"], 0.0)
    sharing = facts.groupby("meta_key")["trial"].transform("size").where(facts["meta_key"].notna(), 1)
    facts["meta_amortised_seconds"] = facts["meta_seconds"] / sharing
    return facts


def _is_live(benchmark: str) -> bool:
    """Whether a stored trial's benchmark trains networks (a benchmark not installed here counts as not)."""
    from tnasbench.benchmarks.kinds import is_live

    try:
        return is_live(benchmark)
    except TnasbenchError:
        return False


def _surrogate_note(benchmark: str) -> str:
    from tnasbench.benchmarks.kinds import benchmark_kind

    try:
        return benchmark_kind(benchmark).surrogate
    except TnasbenchError:  # a plugin benchmark no longer installed
        return ""


def _trained_lines(trials: pd.DataFrame) -> list[str]:
    """What a live benchmark's numbers are (networks trained at which ``[live]`` recipe) and which published
    figures they cannot be compared with: said first, like a surrogate's note."""
    from tnasbench.benchmarks.kinds import benchmark_kind

    lines = []
    for benchmark, group in trials.groupby("benchmark"):
        try:
            kind = benchmark_kind(str(benchmark))
        except TnasbenchError:
            continue
        if not kind.live:
            continue
        from tnasbench.benchmarks.live import recipe_text  # imports torch: only for a live benchmark's store

        recipes = sorted(
            {recipe_text(json.loads(json.loads(spec).get("live") or "{}"), kind.space) for spec in group["spec"]}
        )
        caveat = f" {kind.caveat}." if kind.caveat else ""
        lines += ["", f"**`{benchmark}`: every accuracy is a network trained at recipe {'; '.join(recipes)}.{caveat}**"]
    return lines


def _status_lines(trials: pd.DataFrame) -> list[str]:
    counts = trials["status"].value_counts().to_dict() if len(trials) else {}
    superseded, stale = counts.get("superseded", 0), counts.get("stale", 0)
    lines = [
        f"{counts.get('done', 0)} trials done, {counts.get('failed', 0)} failed, {counts.get('running', 0)} running, "
        f"{counts.get('interrupted', 0)} interrupted"
        + (f", {superseded} superseded by a later run of the same trial (kept, not counted)" if superseded else "")
        + (f", {stale} stale (run on older data of their dataset, kept, not counted)" if stale else "")
        + "."
    ]
    unfinished = trials[trials["status"].isin(["failed", "running", "interrupted", "stale"])]
    if len(unfinished):
        missing = unfinished.groupby(["label", "dataset", "status"]).size().reset_index(name="trials")
        lines += ["", "Not in the statistics below (re-run the suite to finish them):", ""]
        lines += [f"- {r.label} on {r.dataset}: {r.trials} {r.status}" for r in missing.itertuples()]
    return lines


def _verdict_lines(verdict: Verdict) -> list[str]:
    return [
        f"### {verdict.hypothesis}: {verdict.verdict}",
        "",
        f"*{verdict.claim}.*",
        "",
        f"Rule (fixed before the data): {verdict.rule}",
        "",
        *[f"- {reason}" for reason in verdict.reasons],
    ]


def build_report(
    store_path: str | Path | list, out: str | Path, reference: str | None = None, margin: float | None = None
) -> Path:
    """Write report.md, index.html, CSV/Markdown/LaTeX tables and PNG/SVG figures for a store, or for several
    pooled (a cross-space report: ranks and CD diagrams over every task, pairs on normalised regret).

    ``reference``: the searcher every other one is paired against (default ``tnas`` when stored);
    ``margin``: regret points within which a per-task paired difference counts as equivalent (TOST).
    Everything is checked before the first file is written, so a refused report leaves nothing behind.
    """
    if margin is not None and not margin > 0:
        raise TnasbenchError(f"--margin must be a positive number of regret points, got {margin}: try --margin 0.25")
    paths = [Path(p) for p in (store_path if isinstance(store_path, list) else [store_path])]
    trials, observations = _read_stores(paths)
    signatures = data_signatures(trials)
    observations = observations[observations["trial"].isin(trials.loc[trials["status"] == "done", "key"])]
    out = Path(out)
    title = f"# tnasbench report: {', '.join(sorted(trials['suite'].unique())) or 'empty store'}"
    named = ", ".join(f"`{p.name}`" for p in paths)
    lines = [
        title,
        "",
        f"Store{'s' * (len(paths) > 1)} {named}: " + _status_lines(trials)[0],
        *_status_lines(trials)[1:],
        "",
    ]
    if observations.empty:
        lines += ["No finished trials yet: run `tnasbench run SUITE --store STORE`, then report again.", ""]
        return _write(out, lines, trials, [])

    for benchmark in sorted(set(observations["benchmark"])):  # said first: no number below is a measurement
        note = _surrogate_note(benchmark)
        if note:
            lines[1:1] = ["", f"**`{benchmark}` is a surrogate: {note}.**"]
    lines[1:1] = _trained_lines(trials[trials["key"].isin(observations["trial"])])
    searched_test = sorted({m for m in observations["objective_metric"] if str(m).startswith("test")})
    if searched_test:  # said first: it changes what every number below means
        lines[1:1] = [
            "",
            f"**The searchers saw the test metric ({', '.join(searched_test)}), as the TNAS authors' code does on "
            "CIFAR: these numbers measure how fast a searcher finds the table's best test cell, not how well a "
            "found cell generalises.**",
        ]
    facts = trial_facts(trials)
    observations = observations.merge(facts[["trial", "one_shot", "cost_kind", *SCALE]], on="trial", how="left")
    one_shot = observations[observations["one_shot"]]
    anytime = observations[~observations["one_shot"]]  # a one-shot search has one result, no trajectory
    if anytime.empty:
        lines += ["Only one-shot trials: no anytime statistics (they need black-box searchers).", ""]
        anytime = observations
    budgets = sorted({int(b) for b in anytime["budget_evaluations"].dropna()})
    if len(budgets) > 1:  # a shorter run's final regret is not a longer run's checkpoint: they must not pool
        raise TnasbenchError(
            f"{named} hold runs of {' and '.join(map(str, budgets))} evaluations: a report compares runs of one "
            "budget; run each budget into its own store (--store) and report them one by one"
        )
    curves = regret_curves(anytime)
    at_budgets = regret_at_budgets(curves)
    present = set(at_budgets["searcher"])
    if reference is not None and reference not in present:
        raise TnasbenchError(
            f"--reference {reference!r} has no finished trials in {named}: pick one of {sorted(present)}"
        )
    reference = reference or (TNAS if TNAS in present else None)
    if margin is not None and reference is None:
        raise TnasbenchError(
            f"--margin needs a paired comparison, and {named} has no {TNAS} trials: add --reference NAME"
        )
    final_budget = int(trial_budgets(curves).max())
    declared = declared_budgets(final_budget)
    cd_budgets = sorted({b for b in at_budgets["budget"].unique() if b >= min(CD_FRACTIONS) * final_budget})
    ranked, left_out = on_every_benchmark(at_budgets, anytime[["searcher", "benchmark"]].drop_duplicates())
    rank_tests = [t for b in cd_budgets if (t := friedman_nemenyi(blocks(ranked, b), int(b))) is not None]
    summary, rank_table = summary_with_ci(at_budgets), ranks(ranked)
    final = _with_search_cost(final_trials(observations), facts)
    same_units = anytime["benchmark"].nunique() == 1 and anytime["report_metric"].nunique() == 1
    paired = paired_comparison(at_budgets, reference, margin, same_units) if reference else None
    verdicts = [
        h1(at_budgets, declared),
        h1_transfer(at_budgets, declared),
        h2(final),
        h3(ranked, declared, set(at_budgets["dataset"]), left_out),
    ]
    first, second, scales = table1(summary), table2(final), task_scales(final)

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "final_regret.csv": final_regret_table(observations),
        "anytime_regret.csv": summary,
        "ranks.csv": rank_table,
        "table1.csv": first,
        "table2.csv": second,
        "task_scales.csv": scales,
        "searcher_compute.csv": _compute_table(final),
    }
    if paired is not None:
        files["paired.csv"] = paired.assign(reference=reference)
    for name, frame in files.items():
        frame.to_csv(out / name, index=False, float_format="%.4f")
    (out / "table1.tex").write_text(to_latex(first, "Anytime regret (mean ± std over seeds)"))
    (out / "table2.tex").write_text(to_latex(second, "Final accuracy and search cost"))
    verdict_rows = [
        {"hypothesis": v.hypothesis, "verdict": v.verdict, "rule": v.rule, "reasons": " | ".join(v.reasons)}
        for v in verdicts
    ]
    pd.DataFrame(verdict_rows).to_csv(out / "verdicts.csv", index=False)

    figures = [*plot_regret(curves, out), *plot_regret_vs_cost(curves, out)]
    if not rank_table.empty:
        figures += plot_rank_over_budget(rank_table, out)
    diagrams = [plot_critical_difference(test, out) for test in rank_tests]
    figures += [f for d in diagrams for f in d]
    figures += plot_accuracy_vs_cost(final, out)

    metrics = observations[["dataset", "objective_metric", "report_metric"]].drop_duplicates().sort_values("dataset")
    lines += [
        "Regret = optimum of the report metric − report metric of the incumbent, the incumbent being the best "
        "cell by the objective the searcher saw; objective regret = the searched metric's optimum − the "
        "incumbent's searched value. Normalised regret = regret / (optimum − floor) of the task, 0 at its best "
        "cell and 1 at its worst: only normalised regret is pooled across tasks. The ceiling is the report value "
        "of the searched metric's best cell: a search that finds that cell still has the ceiling regret.",
        "",
        "| dataset | searchers saw | report scores |",
        "| --- | --- | --- |",
        *[f"| {r.dataset} | {r.objective_metric} | {r.report_metric} |" for r in metrics.itertuples()],
        "",
        scales.to_markdown(index=False),
        "",
        f"Checkpoints: 10/25/50/100% of each trial's budget; verdicts are judged at the declared budgets "
        f"{', '.join(map(str, declared))} (the final budget and its half).",
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
        "Search cost = evaluation cost + the searcher's own measured compute (set-up with its whole "
        "meta-training, ask and tell). Evaluation cost: *estimated* = sum over evaluated cells of the table's "
        "training time (a tabular run costs nothing real); *measured* = wall clock of real training or a one-shot "
        "search. Published figures: TNAS (ICLR 2023) Table 2, ± = 95% t-interval over 3 seeds.",
        "",
        second.to_markdown(index=False),
        "",
        "## The searchers' own compute (measured)",
        "",
        files["searcher_compute.csv"].to_markdown(index=False, floatfmt=".3g"),
        "",
        "## Final regret",
        "",
        markdown_table(files["final_regret.csv"]),
        "",
        *_one_shot_lines(one_shot, dict(zip(facts["trial"], facts["info"], strict=True))),
        *_dataset_encoder_lines(trials, facts),
        *_paired_lines(paired, reference, margin),
        "## Ranks and critical differences",
        "",
        *_rank_lines(rank_tests, cd_budgets),
        *([f"Not ranked (not run on every benchmark pooled here): {', '.join(left_out)}."] if left_out else []),
        "",
        f"Regret curves: mean over seeds, band {BAND}.",
        "",
        *[f"![{f.stem}]({f.name})" for f in figures if f.suffix == ".png"],
        "",
        "## Provenance",
        "",
        "Data checksums (sha256 prefixes of the table columns) per dataset:",
        "",
        *[f"- {d}: `{s}`" for d, s in sorted(signatures.items())],
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


def _with_search_cost(final: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Final trials whose ``cost_seconds`` is the whole search cost: evaluations plus the searcher's compute."""
    columns = ["trial", "searcher_seconds", "setup_seconds", "ask_tell_seconds", "meta_seconds",
               "meta_amortised_seconds"]  # fmt: skip
    final = final.merge(facts[[*columns, "runner"]], on="trial", how="left").fillna({c: 0.0 for c in columns[1:]})
    kind = final["cost_kind"].where(final["cost_kind"] == "measured", "estimated + measured")
    return final.assign(
        evaluation_seconds=final["cost_seconds"],
        cost_seconds=final["cost_seconds"] + final["searcher_seconds"],
        cost_kind=kind.where(final["searcher_seconds"] > 0, final["cost_kind"]),
    )


def _compute_table(final: pd.DataFrame) -> pd.DataFrame:
    """Mean seconds per trial of the searcher's own work, per dataset and searcher."""
    columns = {
        "setup_seconds": "set-up (s)",
        "meta_seconds": "meta-training, whole (s)",
        "meta_amortised_seconds": "meta-training, amortised (s)",
        "ask_tell_seconds": "ask + tell (s)",
        "searcher_seconds": "searcher total (s)",
        "evaluation_seconds": "evaluations (s)",
    }
    table = final.groupby(["dataset", "searcher"])[list(columns)].mean().reset_index()
    return table.rename(columns=columns)


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


def _dataset_encoder_lines(trials: pd.DataFrame, facts: pd.DataFrame) -> list[str]:
    """Whether each TNAS-family searcher's dataset encoder φ ran, per dataset (as its trials recorded it)."""
    note_of = {trial: info.get("dataset_encoder") for trial, info in zip(facts["trial"], facts["info"], strict=True)}
    rows = [
        (r.label, r.dataset, note_of.get(r.key))
        for r in trials[trials["status"] == "done"].itertuples()
        if note_of.get(r.key)
    ]
    if not rows:
        return []
    table = pd.DataFrame(rows, columns=["searcher", "dataset", "dataset encoder φ"])
    counted = table.value_counts().rename("trials").reset_index().sort_values(["searcher", "dataset"])
    return ["## Dataset encoder φ (as each trial recorded it)", "", counted.to_markdown(index=False), ""]


def _paired_lines(paired: pd.DataFrame | None, reference: str | None, margin: float | None) -> list[str]:
    if paired is None or paired.empty:
        return []
    table = pd.DataFrame(
        {
            "budget": paired["budget"],
            "scope": paired["scope"],
            "searcher": paired["searcher"],
            "pairs": paired["pairs"],
            "difference [95% CI]": [
                f"{r.difference:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}]" + (" (norm.)" if r.scope == "pooled" else "")
                for r in paired.itertuples()
            ],
            "p (Holm)": paired["p_holm"].map("{:.3g}".format),
        }
    )
    if margin is not None:
        table[f"p equivalent ±{margin:g} (Holm)"] = paired["p_equivalent_holm"].map("{:.3g}".format)
        table[f"p non-inferior +{margin:g} (Holm)"] = paired["p_noninferior_holm"].map("{:.3g}".format)
    table["outcome"] = paired["outcome"]
    equivalence = (
        []
        if margin is None
        else [
            f"Equivalence (`--margin {margin:g}`): two one-sided paired t-tests (TOST) that the mean difference "
            f"lies inside ±{margin:g} regret points, Holm-corrected; significant exactly when the 90% t-interval "
            f"lies inside the margin. Non-inferiority: the one-sided paired t-test that it lies below +{margin:g} "
            f"(the searcher is not worse than {reference} by the margin), Holm-corrected. Per task, and, where "
            f"every task reports one metric, pooled over all (dataset, seed) pairs in points (`{POOLED_POINTS}`). "
            'Outcomes speak for the reference: "better" means it did significantly better. A row that is none of '
            "equivalent, non-inferior or significantly different is inconclusive.",
            "",
        ]
    )
    return [
        f"## Paired comparison with {reference}",
        "",
        f"Difference = other − {reference}: positive means {reference} did better. Per task in regret points, "
        "paired over seeds; `pooled` over every (task, seed) pair in normalised regret (norm.). Wilcoxon "
        "signed-rank, Holm-corrected within each scope (one task, or pooled) over searcher × budget "
        "(`--reference` picks another searcher).",
        "",
        *equivalence,
        table.to_markdown(index=False),
        "",
    ]


def _read_stores(paths: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trials and observations of every store, each trial once (a trial copied into two stores is one trial)."""
    trials, observations = [], []
    for path in paths:
        store = Store(path)
        trials.append(store.progress())
        observations.append(store.observations())
        store.close()
    trials_all = pd.concat(trials, ignore_index=True)
    trials_all = trials_all.sort_values("status", key=lambda s: s == "done", kind="stable").drop_duplicates(
        "key", keep="last"
    )
    observations_all = pd.concat(observations, ignore_index=True).drop_duplicates(["trial", "step"], keep="last")
    return trials_all.reset_index(drop=True), observations_all.reset_index(drop=True)


def _rank_lines(tests: list, budgets: list[int]) -> list[str]:
    if not tests:
        return [
            f"No Friedman test at {', '.join(map(str, budgets)) or 'any budget'} evaluations: it needs 3 searchers "
            "or more and 5 complete (dataset, seed) blocks."
        ]
    lines = [
        "Blocks are independent runs: one per (dataset, seed) at one budget (budgets of a run are nested, so "
        "each budget gets its own test and diagram).",
        "",
    ]
    for test in tests:
        ranks_text = ", ".join(f"{s} {r:.2f}" for s, r in sorted(test.mean_ranks.items(), key=lambda item: item[1]))
        cd = f"; Nemenyi critical difference {test.critical_difference:.2f}" if test.critical_difference else ""
        lines.append(f"- {test.budget} evaluations, {test.note}: Friedman p = {test.friedman_p:.3g}{cd}.")
        lines.append(f"  Mean ranks (1 = best): {ranks_text}.")
        if not test.significant:
            lines.append("  Not significant: its diagram shows the mean ranks, and no pair is claimed to differ.")
    return lines


def _provenance(trials: pd.DataFrame) -> dict:
    return json.loads(trials["provenance"].dropna().iloc[-1]) if trials["provenance"].notna().any() else {}


def _write(out: Path, lines: list[str], trials: pd.DataFrame, figures: list[Path]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.md"
    report.write_text("\n".join(lines))
    write_index(out, "\n".join(lines), _provenance(trials))
    return report
