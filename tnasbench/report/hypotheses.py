"""Verdicts for the paper's hypotheses, computed from the store's data (never written by hand).

H1: TNAS beats classic HPO (random search, BoTorch EI/UCB, HEBO) and HPO-for-NAS (BANANAS, NASBOWL).
H2: TNAS's search cost is about that of one-shot NAS (GDAS, DrNAS) at equal or better accuracy.
H3: TNAS is consistently top-ranked across datasets and budgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tnasbench.report.stats import paired_comparison

TNAS = "tnas"
CLASSIC_HPO = ("random-search", "botorch-ei", "botorch-ucb", "hebo")
HPO_FOR_NAS = ("bananas", "nasbowl")
ONE_SHOT = ("gdas", "drnas")
COST_RATIO = 2.0  # "about as little": within a factor of two
TOP_SHARE = 0.75  # H3: best mean rank in at least this share of (dataset, budget) cells


@dataclass
class Verdict:
    hypothesis: str
    claim: str
    verdict: str  # "supported", "not supported" or "inconclusive"
    reasons: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None


def h1(at_budgets: pd.DataFrame) -> Verdict:
    """Paired Wilcoxon-Holm of TNAS against each HPO / HPO-for-NAS searcher at every budget."""
    claim = "TNAS beats classic HPO (RS, EI, UCB, HEBO) and HPO-for-NAS (BANANAS, NASBOWL) at anytime budgets"
    present = set(at_budgets["searcher"])
    rivals = [s for s in (*CLASSIC_HPO, *HPO_FOR_NAS) if s in present]
    missing = [s for s in (*CLASSIC_HPO, *HPO_FOR_NAS) if s not in present]
    if TNAS not in present or not rivals:
        return Verdict(
            "H1", claim, "inconclusive", [f"needs {TNAS} and at least one rival; missing: {missing or [TNAS]}"]
        )
    table = paired_comparison(at_budgets[at_budgets["searcher"].isin([TNAS, *rivals])], TNAS)
    worse = table[table["outcome"] == "worse"]
    beaten = {s for s in rivals if (table[table["searcher"] == s]["outcome"] == "better").any()}
    reasons = [
        f"{len(table)} comparisons (rival × budget), pairs = (dataset, seed), Wilcoxon signed-rank, Holm-corrected"
    ]
    if missing:
        reasons.append(f"not in the store: {', '.join(missing)}")
    if len(worse):
        reasons += [
            f"{r.searcher} is significantly better at {r.budget} evaluations (p={r.p_holm:.3g})"
            for r in worse.itertuples()
        ]
        return Verdict("H1", claim, "not supported", reasons, table)
    unbeaten = [s for s in rivals if s not in beaten]
    if unbeaten:
        reasons.append(f"no significant win over {', '.join(unbeaten)} at any budget")
        return Verdict("H1", claim, "inconclusive", reasons, table)
    if missing:
        reasons.append(f"significantly better than {', '.join(sorted(beaten))}; the claim needs every rival")
        return Verdict("H1", claim, "inconclusive", reasons, table)
    reasons.append(f"significantly better than every rival at one budget or more: {', '.join(sorted(beaten))}")
    return Verdict("H1", claim, "supported", reasons, table)


def h2(final: pd.DataFrame) -> Verdict:
    """Search cost (seconds) of TNAS vs one-shot methods, measured and estimated costs kept apart.

    ``final``: one row per trial with dataset, searcher, accuracy, cost_seconds and cost_kind
    ("estimated": evaluations × the table's training time; "measured": wall clock of a one-shot search).
    """
    claim = "TNAS costs about as little as one-shot NAS (GDAS, DrNAS) at equal or better accuracy"
    present = set(final["searcher"])
    one_shot = [s for s in ONE_SHOT if s in present]
    if TNAS not in present or not one_shot:
        need = [s for s in (TNAS, *ONE_SHOT) if s not in present]
        return Verdict("H2", claim, "inconclusive", [f"no trials of {', '.join(need)} in the store"])
    table = (
        final[final["searcher"].isin([TNAS, *one_shot])]
        .groupby(["dataset", "searcher", "cost_kind"])
        .agg(accuracy=("accuracy", "mean"), cost_seconds=("cost_seconds", "mean"))
        .reset_index()
    )
    reasons, verdicts = [], []
    for dataset, frame in table.groupby("dataset"):
        rows = frame.set_index("searcher")
        if TNAS not in rows.index:
            continue
        ours = rows.loc[TNAS]
        for method in [s for s in one_shot if s in rows.index]:
            theirs = rows.loc[method]
            ratio = ours["cost_seconds"] / theirs["cost_seconds"]
            verdicts.append(ratio <= COST_RATIO and ours["accuracy"] >= theirs["accuracy"])
            reasons.append(
                f"{dataset}: TNAS {ours['cost_kind']} {ours['cost_seconds'] / 3600:.3g} h vs {method} "
                f"{theirs['cost_kind']} {theirs['cost_seconds'] / 3600:.3g} h; "
                f"accuracy {ours['accuracy']:.2f} vs {theirs['accuracy']:.2f}"
            )
    if not verdicts:
        return Verdict("H2", claim, "inconclusive", ["no dataset has both TNAS and a one-shot method"], table)
    verdict = "supported" if all(verdicts) else "not supported"
    return Verdict("H2", claim, verdict, reasons, table)


def h3(rank_table: pd.DataFrame, datasets: set[str] | None = None) -> Verdict:
    """TNAS's mean rank per (dataset, budget) cell: best in at least ``TOP_SHARE`` of cells, never below 3rd.

    ``datasets``: every dataset in the store; a dataset without a block where every searcher ran
    leaves the verdict inconclusive (consistency cannot be judged on part of the benchmarks).
    """
    claim = "TNAS is consistently top-ranked across datasets and budgets"
    if rank_table.empty or TNAS not in set(rank_table["searcher"]):
        return Verdict("H3", claim, "inconclusive", [f"no complete blocks with {TNAS} to rank"])
    unranked = sorted((datasets or set()) - set(rank_table["dataset"]))
    if unranked:
        reason = f"no seed where every searcher ran on {', '.join(unranked)}: re-run the missing trials"
        return Verdict("H3", claim, "inconclusive", [reason])
    cells = rank_table.groupby(["dataset", "budget", "searcher"])["rank"].mean().unstack("searcher")
    if cells.shape[1] < 3:
        return Verdict("H3", claim, "inconclusive", ["fewer than three searchers ranked"])
    place = cells.rank(axis=1, method="min")[TNAS]  # 1 = best mean rank (ties count as best)
    share = float((place == 1).mean())
    worst = int(place.max())
    spread = cells.std(axis=0).sort_values()
    reasons = [
        f"TNAS has the best mean rank in {int((place == 1).sum())} of {len(place)} (dataset, budget) cells "
        f"({share:.0%}); its worst place is {worst} of {cells.shape[1]}",
        "spread (std) of mean rank across cells: " + ", ".join(f"{s} {v:.2f}" for s, v in spread.items()),
    ]
    supported = share >= TOP_SHARE and worst <= 3
    return Verdict(
        "H3", claim, "supported" if supported else "not supported", reasons, place.rename("place").reset_index()
    )
