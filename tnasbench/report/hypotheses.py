"""Verdicts for the paper's hypotheses, by rules fixed before the data (each verdict prints its rule).

H1: TNAS beats classic HPO (random search, BoTorch EI/UCB, HEBO) and HPO-for-NAS (BANANAS, NASBOWL);
H1-transfer: by the same rule, methods that transfer too (transfer-topk, ...).
H2: TNAS's search cost is about that of one-shot NAS (GDAS, DrNAS, SETN, PC-DARTS) at equal or better accuracy.
H3: TNAS is consistently top-ranked across tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tnasbench.report.stats import ALPHA, POOLED, holm, paired_tests, smallest_holm_p

TNAS = "tnas"
RIVAL_GROUPS = {
    "classic HPO": ("random-search", "botorch-ei", "botorch-ucb", "hebo"),
    "HPO-for-NAS": ("bananas", "nasbowl"),
}
RIVALS = tuple(s for group in RIVAL_GROUPS.values() for s in group)
TRANSFER_GROUPS = {"transfer": ("transfer-topk", "rgpe", "fsbo", "metad2a")}  # they see the other tasks too
ONE_SHOT = ("gdas", "drnas", "setn", "pc-darts")  # the paper's four one-shot rivals
COST_RATIO = 2.0  # "about as little": within a factor of two
TOP_SHARE = 0.75  # H3: the best mean rank in at least this share of (task, budget) cells
MIN_TASKS = 5  # H3: consistency across fewer tasks is not judged

H1_RULE = (
    "Supported only if TNAS is significantly better (two-sided Wilcoxon signed-rank, Holm over rival × "
    "declared budget, α = 0.05) than every rival at every declared budget, on normalised regret pooled over "
    "(task, seed) pairs, and significantly worse than none at any checkpoint, pooled or on any one task (Holm "
    "within each of those scopes over rival × checkpoint). Not supported if it is significantly worse anywhere. "
    "'Cannot be shown' when the pairs "
    "available cannot reach α after Holm even if every difference went TNAS's way."
)
H2_RULE = (
    f"Supported if on every task TNAS's search cost is at most {COST_RATIO:g}× each one-shot method's and its "
    "mean accuracy is at least theirs; costs compared measured with measured where the store has them."
)
H3_RULE = (
    f"Ranks (ties share the mean rank) among TNAS and its rivals (not its own ablations) per (task, seed) at each "
    f"declared budget, averaged over seeds per (task, budget) cell. Supported if TNAS alone has the best mean "
    f"rank in ≥ {TOP_SHARE:.0%} of cells and is never below 3rd; needs ≥ {MIN_TASKS} tasks."
)


@dataclass
class Verdict:
    hypothesis: str
    claim: str
    verdict: str  # "supported", "not supported", "inconclusive" or "cannot be shown"
    reasons: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    rule: str = ""


def _worse_lines(worse: pd.DataFrame) -> list[str]:
    return [
        f"{r.searcher} is significantly better than TNAS at {r.budget} evaluations ({r.scope}; "
        f"difference {r.difference:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}], p_holm = {r.p_holm:.3g})"
        for r in worse.itertuples()
    ]


def h1(at_budgets: pd.DataFrame, declared: list[int]) -> Verdict:
    """TNAS against each classic-HPO and HPO-for-NAS rival at the ``declared`` budgets (see ``H1_RULE``)."""
    claim = "TNAS beats classic HPO (RS, EI, UCB, HEBO) and HPO-for-NAS (BANANAS, NASBOWL)"
    return _beats_every_rival(at_budgets, declared, "H1", claim, RIVAL_GROUPS)


def h1_transfer(at_budgets: pd.DataFrame, declared: list[int]) -> Verdict:
    """The same rule against methods that also transfer from the other tasks: does TNAS's meta-learned
    Bayesian optimisation add anything over plain transfer?"""
    claim = "TNAS beats transfer without its surrogate (transfer-topk) and other transfer methods"
    present = set(at_budgets["searcher"])
    if not present & set(TRANSFER_GROUPS["transfer"]):
        reason = f"no transfer baseline in the store ({', '.join(TRANSFER_GROUPS['transfer'])})"
        return Verdict("H1-transfer", claim, "inconclusive", [reason], rule=H1_RULE)
    groups = {name: tuple(s for s in group if s in present) for name, group in TRANSFER_GROUPS.items()}
    return _beats_every_rival(at_budgets, declared, "H1-transfer", claim, groups)


def _beats_every_rival(
    at_budgets: pd.DataFrame, declared: list[int], hypothesis: str, claim: str, groups: dict[str, tuple[str, ...]]
) -> Verdict:
    everyone = tuple(s for group in groups.values() for s in group)
    present = set(at_budgets["searcher"])
    rivals = [s for s in everyone if s in present]
    missing = [s for s in everyone if s not in present]
    if TNAS not in present or not rivals:
        reason = f"needs {TNAS} and at least one rival; missing: {', '.join(missing or [TNAS])}"
        return Verdict(hypothesis, claim, "inconclusive", [reason], rule=H1_RULE)
    data = at_budgets[at_budgets["searcher"].isin([TNAS, *rivals])]
    tests = paired_tests(data, TNAS)
    single_task = data["dataset"].nunique() == 1
    claim_scope = (tests["scope"] == POOLED) | single_task
    primary = holm(tests[claim_scope & tests["budget"].isin(declared)])
    # each scope (pooled, every task) is its own family over rival × checkpoint: a loss anywhere is found
    safety = pd.concat([holm(frame) for _, frame in tests.groupby("scope")]) if len(tests) else holm(tests)
    reasons = [
        f"primary: {len(primary)} tests (rival × declared budget {', '.join(map(str, declared))}), "
        f"{'regret on the one task' if single_task else 'normalised regret pooled over tasks'}; "
        f"safety: {len(safety)} tests, Holm within each scope (pooled, and each task) over rival × checkpoint"
    ]
    reasons += [_group_line(name, group, primary) for name, group in groups.items()]
    if missing:
        reasons.append(f"not in the store: {', '.join(missing)}")
    judged = pd.concat([primary, safety])
    worse = _worse_lines(judged[judged["outcome"] == "worse"].drop_duplicates(["budget", "scope", "searcher"]))
    if worse:
        return Verdict(hypothesis, claim, "not supported", reasons + worse, judged, H1_RULE)
    unbeaten = primary[primary["outcome"] != "better"]
    if unbeaten.empty and len(primary) == len(rivals) * len(declared) and not missing:
        reasons.append("significantly better than every rival at every declared budget")
        return Verdict(hypothesis, claim, "supported", reasons, primary, H1_RULE)
    pairs = int(primary["pairs"].min()) if len(primary) else 0
    floor = smallest_holm_p(pairs, len(primary))
    if floor >= ALPHA:
        reasons.append(
            f"cannot be shown with {pairs} pairs over {len(primary)} tests: the smallest Holm-corrected p this "
            f"design can reach is {floor:.3g} ≥ {ALPHA} (more seeds or tasks would be needed)"
        )
        return Verdict(hypothesis, claim, "cannot be shown", reasons, primary, H1_RULE)
    not_won = ", ".join(f"{r.searcher}@{r.budget}" for r in unbeaten.itertuples())
    reasons.append(f"no significant win over {not_won}" if not_won else "the claim needs every rival in the store")
    return Verdict(hypothesis, claim, "inconclusive", reasons, primary, H1_RULE)


def _group_line(name: str, group: tuple[str, ...], primary: pd.DataFrame) -> str:
    rows = primary[primary["searcher"].isin(group)]
    if rows.empty:
        return f"TNAS vs {name}: no rival of this group in the store"
    wins = int((rows["outcome"] == "better").sum())
    effects = "; ".join(
        f"{r.searcher}@{r.budget} {r.difference:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}] p_holm {r.p_holm:.3g}"
        for r in rows.itertuples()
    )
    return f"TNAS vs {name}: significantly better in {wins} of {len(rows)} tests ({effects})"


def h2(final: pd.DataFrame) -> Verdict:
    """Search cost of TNAS vs one-shot methods per task (see ``H2_RULE``).

    ``final``: one row per trial with dataset, searcher, accuracy, cost_seconds, cost_kind (and, where known,
    the ``runner`` that timed it: wall clocks of different runs are flagged as such): "measured"
    (all of it wall clock: live training, a one-shot search, the searcher's own compute) or
    "estimated + measured" (the table's training times of the evaluated cells, plus the searcher's measured
    compute).
    """
    claim = "TNAS costs about as little as one-shot NAS (GDAS, DrNAS, SETN, PC-DARTS) at equal or better accuracy"
    present = set(final["searcher"])
    one_shot = [s for s in ONE_SHOT if s in present]
    if TNAS not in present or not one_shot:
        need = [s for s in (TNAS, *ONE_SHOT) if s not in present]
        return Verdict("H2", claim, "inconclusive", [f"no trials of {', '.join(need)} in the store"], rule=H2_RULE)
    table = (
        final[final["searcher"].isin([TNAS, *one_shot])]
        .groupby(["dataset", "searcher", "cost_kind"])
        .agg(accuracy=("accuracy", "mean"), cost_seconds=("cost_seconds", "mean"))
        .reset_index()
    )
    runners = None  # who timed each (dataset, searcher)'s trials; "" is unknown (older stores)
    if "runner" in final:
        runners = final.groupby(["dataset", "searcher"])["runner"].agg(lambda r: set(r) - {""})
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
            like = "measured with measured" if ours["cost_kind"] == theirs["cost_kind"] else "unlike costs"
            timed = (runners[(dataset, TNAS)], runners[(dataset, method)]) if runners is not None else (set(), set())
            if all(timed) and not timed[0] & timed[1]:
                like += ", timed by different runs (machine and load may differ)"
            reasons.append(
                f"{dataset}: TNAS {ours['cost_kind']} {_hours(ours['cost_seconds'])} vs {method} "
                f"{theirs['cost_kind']} {_hours(theirs['cost_seconds'])} (×{ratio:.3g}, {like}); "
                f"accuracy {ours['accuracy']:.2f} vs {theirs['accuracy']:.2f}"
            )
    if not verdicts:
        return Verdict("H2", claim, "inconclusive", ["no task has both TNAS and a one-shot method"], table, H2_RULE)
    return Verdict("H2", claim, "supported" if all(verdicts) else "not supported", reasons, table, H2_RULE)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.3g} h" if seconds >= 360 else f"{seconds:.3g} s"


def h3(
    at_budgets: pd.DataFrame, declared: list[int], datasets: set[str] | None = None, left_out: list[str] = ()
) -> Verdict:
    """TNAS's place by mean rank per (task, declared budget) cell among it and its rivals (see ``H3_RULE``).

    ``datasets``: every task in the store; one without a block where every searcher ran leaves the
    verdict inconclusive (consistency cannot be judged on part of the benchmarks). ``left_out``: searchers
    a pooled report left out of the ranks (not run on every benchmark), said in the reasons.
    """
    claim = "TNAS is consistently top-ranked across tasks"
    if TNAS in left_out:
        reason = f"{TNAS} did not run on every benchmark pooled here, so no block ranks it"
        return Verdict("H3", claim, "inconclusive", [reason], rule=H3_RULE)
    field_ = at_budgets[at_budgets["budget"].isin(declared) & ~at_budgets["searcher"].str.startswith(f"{TNAS}-")]
    wide = field_.pivot_table(index=["dataset", "budget", "seed"], columns="searcher", values="regret").dropna()
    if wide.empty or TNAS not in wide.columns:
        return Verdict("H3", claim, "inconclusive", [f"no complete blocks with {TNAS} to rank"], rule=H3_RULE)
    if wide.shape[1] < 3:
        return Verdict("H3", claim, "inconclusive", ["fewer than three searchers ranked"], rule=H3_RULE)
    unranked = sorted((datasets or set()) - set(wide.index.get_level_values("dataset")))
    if unranked:
        reason = f"no seed where every searcher ran on {', '.join(unranked)}: re-run the missing trials"
        return Verdict("H3", claim, "inconclusive", [reason], rule=H3_RULE)
    cells = wide.rank(axis=1, method="average").groupby(level=["dataset", "budget"]).mean()
    place = cells.rank(axis=1, method="average")[TNAS]  # 1 = the best mean rank alone; a tie for first is 1.5
    best, tied = int((place == 1).sum()), int(((place > 1) & (place < 2)).sum())
    tasks = cells.index.get_level_values("dataset").nunique()
    reasons = [
        f"TNAS has the best mean rank alone in {best} of {len(place)} (task, budget) cells ({best / len(place):.0%}), "
        f"ties for best in {tied}; its worst place is {place.max():g} of {cells.shape[1]}",
        "mean rank over cells: " + ", ".join(f"{s} {v:.2f}" for s, v in cells.mean().sort_values().items()),
    ]
    rivals_left_out = [s for s in left_out if not s.startswith(f"{TNAS}-")]
    if rivals_left_out:
        reasons.append(f"ranked among the rivals run on every benchmark; left out: {', '.join(rivals_left_out)}")
    table = place.rename("place").reset_index()
    if tasks < MIN_TASKS:
        reasons.append(f"{tasks} task(s): consistency needs at least {MIN_TASKS} before a verdict")
        return Verdict("H3", claim, "inconclusive", reasons, table, H3_RULE)
    supported = best / len(place) >= TOP_SHARE and place.max() <= 3
    return Verdict("H3", claim, "supported" if supported else "not supported", reasons, table, H3_RULE)
