"""Statistics and verdicts against hand-computed cases; verdicts flip when the data flip."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from tnasbench.report.anytime import checkpoints, declared_budgets, with_scores
from tnasbench.report.hypotheses import RIVALS, h1, h2, h3
from tnasbench.report.stats import (
    EXACT_PAIRS,
    blocks,
    friedman_nemenyi,
    holm_adjusted,
    on_every_benchmark,
    paired_comparison,
    signed_rank_p,
    smallest_holm_p,
)
from tnasbench.report.tables import latex_escape, to_latex

DATASETS = ("cifar10", "cifar100", "imagenet16-120")
BUDGETS = (10, 25, 50, 100)
DECLARED = [50, 100]


def at_budgets(regret_of, datasets=DATASETS, budgets=BUDGETS, seeds=range(10), searchers=("tnas", *RIVALS)):
    """A synthetic store's regrets: ``regret_of(searcher, dataset, budget, seed)``; every task spans 0..100."""
    rows = [
        (d, s, seed, b, regret_of(s, d, b, seed))
        for d in datasets
        for b in budgets
        for seed in seeds
        for s in searchers
    ]
    frame = pd.DataFrame(rows, columns=["dataset", "searcher", "seed", "budget", "regret"])
    return frame.assign(normalised_regret=frame["regret"] / 100, objective_regret=frame["regret"])


def test_checkpoints_and_declared_budgets_follow_the_suite_budget():
    assert checkpoints(100) == [10, 25, 50, 100] and declared_budgets(100) == [50, 100]
    assert checkpoints(30) == [3, 8, 15, 30] and declared_budgets(30) == [15, 30]
    assert checkpoints(20)[-1] == 20 and checkpoints(1) == [1] and declared_budgets(1) == [1]


def test_scores_by_hand_normalised_and_objective_regret():
    frame = pd.DataFrame(
        {
            "trial": ["a"] * 3,
            "step": [1, 2, 3],
            "epochs": [12, 200, 200],  # a low-fidelity look first: no full-fidelity incumbent yet
            "objective": [99.0, 80.0, 85.0],
            "regret": [9.0, 6.0, 4.0],
            "optimum": [94.0] * 3,
            "floor": [14.0] * 3,
            "objective_optimum": [90.0] * 3,
            "objective_floor": [10.0] * 3,
            "ceiling": [93.0] * 3,
        }
    )
    scored = with_scores(frame)
    assert scored["normalised_regret"].tolist() == pytest.approx([9 / 80, 6 / 80, 4 / 80])
    assert np.isnan(scored["objective_regret"].iloc[0])
    assert scored["objective_regret"].tolist()[1:] == [10.0, 5.0]
    assert (scored["ceiling_regret"] == 1.0).all()


def test_omnibus_blocks_are_independent_runs_never_budgets():
    frame = at_budgets(lambda s, d, b, seed: RIVALS.index(s) if s in RIVALS else 9.0)
    table = blocks(frame, 100)
    assert table.index.names == ["dataset", "seed"] and len(table) == 3 * 10  # not 3 datasets x 4 budgets
    test = friedman_nemenyi(table, 100)
    assert test.blocks == 30 and "N = 30 blocks = (dataset, seed) at 100 evaluations" in test.note


def test_a_searcher_of_one_benchmark_is_left_out_of_the_ranks_not_every_other_block():
    both = at_budgets(lambda s, d, b, seed: 1.0, datasets=("cifar10", "cora"), searchers=("tnas", "random-search"))
    extra = at_budgets(lambda s, d, b, seed: 0.0, datasets=("cifar10",), searchers=("tnas-fsbo",))
    frame = pd.concat([both, extra], ignore_index=True)
    assert blocks(frame, 100).index.get_level_values("dataset").unique().tolist() == ["cifar10"]  # cora voided
    runs = pd.DataFrame(
        [("tnas", "nb201"), ("tnas", "nasbench-graph"), ("random-search", "nb201"), ("random-search", "nasbench-graph"),
         ("tnas-fsbo", "nb201")], columns=["searcher", "benchmark"],
    )  # fmt: skip
    ranked, missing = on_every_benchmark(frame, runs)
    assert missing == ["tnas-fsbo"] and len(blocks(ranked, 100)) == 20  # both tasks' 10 seeds
    kept, none = on_every_benchmark(frame, runs.assign(benchmark="nb201"))  # one benchmark: all kept
    assert none == [] and len(kept) == len(frame)
    assert "did not run on every benchmark" in h3(ranked, [100], left_out=["tnas"]).reasons[0]


def tnas_wins(margin=1.0):
    return lambda s, d, b, seed: 0.0 if s == "tnas" else margin + seed + RIVALS.index(s)


def test_h1_supported_when_tnas_wins_every_pooled_test_at_the_declared_budgets():
    verdict = h1(at_budgets(tnas_wins()), DECLARED)
    assert verdict.verdict == "supported", verdict.reasons
    assert "Holm over rival × declared budget" in verdict.rule
    assert "TNAS vs classic HPO: significantly better in 8 of 8 tests" in " ".join(verdict.reasons)


def test_h1_is_not_won_by_a_warm_start_alone():
    # better at 10 evaluations only (what any warm start gives), tied from 25 on: not shown at the declared budgets
    verdict = h1(at_budgets(lambda s, d, b, seed: 0.0 if b > 10 or s == "tnas" else 1.0 + seed), DECLARED)
    assert verdict.verdict == "inconclusive"
    assert verdict.reasons[-1].startswith("no significant win over") and "random-search@50" in verdict.reasons[-1]


def test_h1_not_supported_when_a_rival_is_better_at_any_checkpoint_or_on_one_task():
    early = h1(
        at_budgets(
            lambda s, d, b, seed: (5.0 + seed if s == "tnas" else 0.0) if b == 10 else tnas_wins()(s, d, b, seed)
        ),
        DECLARED,
    )
    assert early.verdict == "not supported"
    assert any("at 10 evaluations (pooled" in r for r in early.reasons)

    def loses_one_task(s, d, b, seed):  # much better on two tasks, slightly but always worse on the third
        if d == "imagenet16-120":
            return 0.5 + 0.01 * seed if s == "tnas" else 0.0
        return tnas_wins(20.0)(s, d, b, seed)

    verdict = h1(at_budgets(loses_one_task), DECLARED)
    assert verdict.verdict == "not supported"
    assert any("(imagenet16-120;" in r for r in verdict.reasons)


def test_h1_says_when_the_design_cannot_show_it():
    # 2 tasks x 3 seeds = 6 pairs per test, 6 rivals x 2 budgets = 12 tests: Holm's floor is 12 * 2/2^6 = 0.375
    verdict = h1(at_budgets(tnas_wins(), datasets=DATASETS[:2], seeds=range(3)), DECLARED)
    assert verdict.verdict == "cannot be shown"
    assert "cannot be shown with 6 pairs over 12 tests" in verdict.reasons[-1] and "0.375" in verdict.reasons[-1]
    assert smallest_holm_p(9, 24) == pytest.approx(24 * 2 / 512)  # nb201-paper: 3 seeds x 3 tasks, 24 tests


def test_h1_needs_every_rival_and_tnas():
    good = at_budgets(tnas_wins())
    partial = good[good["searcher"].isin(["tnas", "random-search", "bananas"])]
    verdict = h1(partial, DECLARED)
    assert verdict.verdict == "inconclusive"  # wins over two rivals do not make the whole claim
    assert "not in the store: botorch-ei, botorch-ucb, hebo, nasbowl" in " ".join(verdict.reasons)
    assert h1(good[good["searcher"] != "tnas"], DECLARED).verdict == "inconclusive"


FIVE_TASKS = ("a", "b", "c", "d", "e")


def test_h3_supported_and_not_supported_over_five_tasks():
    assert h3(at_budgets(tnas_wins(), datasets=FIVE_TASKS), DECLARED).verdict == "supported"
    worst = at_budgets(lambda s, d, b, seed: 50.0 if s == "tnas" else 1.0 + RIVALS.index(s), datasets=FIVE_TASKS)
    assert h3(worst, DECLARED).verdict == "not supported"
    pooled = h3(at_budgets(tnas_wins(), datasets=FIVE_TASKS), DECLARED, left_out=["metad2a", "tnas-fsbo"])
    assert pooled.verdict == "supported" and pooled.reasons[-1].endswith("left out: metad2a")  # said, not hidden


def test_h3_counts_ties_as_ties():
    tied = at_budgets(lambda s, d, b, seed: 0.0 if s in ("tnas", "hebo") else 5.0, datasets=FIVE_TASKS)
    verdict = h3(tied, DECLARED)
    assert verdict.verdict == "not supported"
    assert "best mean rank alone in 0 of 10" in verdict.reasons[0] and "ties for best in 10" in verdict.reasons[0]


def test_h3_needs_five_tasks_and_every_task_ranked():
    three = h3(at_budgets(tnas_wins()), DECLARED)
    assert three.verdict == "inconclusive" and "consistency needs at least 5" in three.reasons[-1]
    good = at_budgets(tnas_wins(), datasets=FIVE_TASKS)
    one_missing = good[~((good["dataset"] == "b") & (good["searcher"] == "hebo"))]
    assert h3(one_missing, DECLARED, set(FIVE_TASKS)).verdict == "inconclusive"


def test_h3_leaves_out_tnas_ablations():
    frame = at_budgets(
        lambda s, d, b, seed: {"tnas": 1.0, "tnas-onehot": 0.0}[s] if s.startswith("tnas") else 2.0,
        datasets=FIVE_TASKS,
        searchers=("tnas", "tnas-onehot", *RIVALS),
    )
    assert h3(frame, DECLARED).verdict == "supported"


def test_paired_tests_run_per_task_and_pooled_on_normalised_regret():
    frame = at_budgets(tnas_wins(), searchers=("tnas", "random-search"))
    table = paired_comparison(frame, "tnas")
    assert set(table["scope"]) == {*DATASETS, "pooled"}
    pooled = table[(table["scope"] == "pooled") & (table["budget"] == 100)].iloc[0]
    assert pooled["pairs"] == 30 and pooled["value"] == "normalised_regret"
    assert pooled["difference"] == pytest.approx(np.mean([1.0 + seed for seed in range(10)]) / 100)
    per_task = table[table["scope"] == "cifar10"].iloc[0]
    assert per_task["pairs"] == 10 and per_task["value"] == "regret"


def test_h2_compares_cost_and_accuracy_and_flips():
    def final(tnas_cost, kind="estimated + measured"):
        return pd.DataFrame(
            [
                ("cifar10", "tnas", 94.37, tnas_cost, kind),
                ("cifar10", "gdas", 93.6, 0.3 * 86400, "measured"),
            ],
            columns=["dataset", "searcher", "accuracy", "cost_seconds", "cost_kind"],
        )

    assert h2(final(0.4 * 86400)).verdict == "supported"
    cheap_loses = h2(final(4.3 * 86400))
    assert cheap_loses.verdict == "not supported"
    assert "estimated + measured" in cheap_loses.reasons[0] and "unlike costs" in cheap_loses.reasons[0]
    assert "measured with measured" in h2(final(0.4 * 86400, "measured")).reasons[0]
    assert h2(final(1.0)[lambda f: f.searcher == "tnas"]).verdict == "inconclusive"
    apart = final(0.4 * 86400, "measured").assign(runner=["host:1", "host:2"])
    assert "timed by different runs" in h2(apart).reasons[0]
    together = apart.assign(runner=["host:1", "host:1"])
    assert "timed by different runs" not in h2(together).reasons[0]


def test_latex_is_escaped_and_balanced():
    frame = pd.DataFrame({"searcher": ["tnas_nodata", "50% & more"], "regret@10": ["0.1 ± 0.0", "{x}"]})
    latex = to_latex(frame, "caption with_underscore")
    assert r"tnas\_nodata" in latex and r"50\% \& more" in latex and r"\{x\}" in latex
    assert latex.count(r"\begin{") == latex.count(r"\end{")
    body = latex.replace(r"\{", "").replace(r"\}", "")
    assert body.count("{") == body.count("}")
    assert latex_escape("a_b") == r"a\_b"


def test_h1_transfer_sets_tnas_against_plain_transfer_by_the_same_rule():
    from tnasbench.report.hypotheses import h1_transfer

    searchers = ("tnas", "transfer-topk", *RIVALS)
    assert "no transfer baseline" in h1_transfer(at_budgets(tnas_wins()), DECLARED).reasons[0]
    beats = at_budgets(lambda s, d, b, seed: 0.0 if s == "tnas" else 1.0 + seed, searchers=searchers)
    assert h1_transfer(beats, DECLARED).verdict == "supported"
    # transfer alone is as good as TNAS: H1 against cold starts holds, against transfer it does not
    equal = at_budgets(lambda s, d, b, seed: 0.0 if s in ("tnas", "transfer-topk") else 1.0 + seed, searchers=searchers)
    assert h1(equal, DECLARED).verdict == "supported"
    verdict = h1_transfer(equal, DECLARED)
    assert verdict.verdict == "inconclusive" and "transfer-topk@50" in verdict.reasons[-1]
    loses = at_budgets(lambda s, d, b, seed: 1.0 + seed if s == "tnas" else 0.0, searchers=searchers)
    assert h1_transfer(loses, DECLARED).verdict == "not supported"


def test_a_paired_row_that_could_never_reach_alpha_says_so_instead_of_no_difference():
    wins = tnas_wins()
    ten = paired_comparison(at_budgets(wins, searchers=("tnas", "random-search")), "tnas")
    assert (ten["outcome"] == "better").all()  # 10 pairs per task, 30 pooled: reachable, and every one won
    three = at_budgets(wins, budgets=(100,), seeds=range(3), searchers=("tnas", "random-search"))
    # 3 pairs per task: the smallest two-sided Wilcoxon p is 0.25, alone in its family (one task, one rival, budget)
    table = paired_comparison(three, "tnas")
    per_task = table[table["scope"] != "pooled"]
    assert (per_task["outcome"] == "cannot be significant (3 pairs, 1 tests)").all()
    pooled = table[table["scope"] == "pooled"]  # 9 pairs: 2 / 512 is below 0.05
    assert (pooled["outcome"] == "better").all()
    rivals = ("tnas", *[f"rival{k}" for k in range(8)])  # pooled over 9 pairs x 4 budgets x 8 rivals: 32 x 2 / 512
    won = at_budgets(lambda s, d, b, seed: 0.0 if s == "tnas" else 1.0 + seed, seeds=range(3), searchers=rivals)
    pooled = paired_comparison(won, "tnas").query("scope == 'pooled'")
    assert (pooled["outcome"] == "cannot be significant (9 pairs, 32 tests)").all()


def test_a_row_holm_lets_through_is_never_called_hopeless_whatever_the_others_pair_counts():
    from tnasbench.report.stats import holm

    rows = [{"pairs": 30, "p": 1e-9, "difference": 1.0}] * 9 + [{"pairs": 7, "p": 2 / 128, "difference": 1.0}]
    table = holm(pd.DataFrame(rows))
    few = table.iloc[-1]
    assert few["p_holm"] < 0.05 and few["outcome"] == "better"  # Holm multiplies the last-ranked p by 1, not 10
    alone = holm(pd.DataFrame([{"pairs": 7, "p": 2 / 128, "difference": 1.0}] * 4))
    assert alone["outcome"].str.startswith("cannot be significant (7 pairs, 4 tests)").all()  # 4 x 2/128 > 0.05


@pytest.mark.parametrize("kind", ["continuous", "ties and zeros", "few values"])
def test_signed_rank_p_is_scipys_wilcoxon_p(kind):
    """The enumerated exact test gives scipy's p (its exact test, or its exhaustive permutation test once
    ties or zeros appear), at every size up to where scipy stops being exact and beyond it."""
    rng = np.random.default_rng(len(kind))
    for n in range(1, EXACT_PAIRS + 4):
        for _ in range(5):
            d = {
                "continuous": rng.normal(size=n),
                "ties and zeros": np.round(rng.normal(size=n)),
                "few values": rng.choice([0.0, 0.5, -0.5, 1.0, 2.0], size=n),
            }[kind]
            if np.allclose(d, 0):
                continue
            assert signed_rank_p(d) == pytest.approx(float(stats.wilcoxon(d).pvalue), abs=1e-12), d


def test_signed_rank_p_by_hand():
    assert signed_rank_p(np.array([1.0, 2.0, 3.0])) == pytest.approx(2 / 8)  # all one way: 2 of 8 flips as extreme
    assert signed_rank_p(np.array([1.0, -1.0])) == 1.0
    assert signed_rank_p(np.zeros(4)) == 1.0
    assert np.isnan(signed_rank_p(np.array([1.0, 2.0, np.nan, 3.0])))  # as scipy: a missing pair is no evidence


def test_holm_adjusted_is_statsmodels_holm():
    rng = np.random.default_rng(3)
    for p in [rng.uniform(size=12), rng.uniform(0, 0.02, size=7), np.array([0.01, 0.01, 0.04, 1.0]), np.array([0.3])]:
        np.testing.assert_allclose(holm_adjusted(p), multipletests(p, method="holm")[1], atol=1e-15)
    np.testing.assert_allclose(holm_adjusted([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])  # by hand


def _fast_vs_stock(difference_of):
    """A two-arm store ("stock" the reference, "fast" the other) at one budget: fast's regret = stock's 1 +
    ``difference_of(dataset, seed)``."""
    return at_budgets(
        lambda s, d, b, seed: 1.0 + (difference_of(d, seed) if s == "fast" else 0.0),
        budgets=(50,),
        seeds=range(20),
        searchers=("stock", "fast"),
    )


def _outcomes(frame, same_units=True):
    table = paired_comparison(frame, "stock", margin=0.25, same_units=same_units)
    return dict(zip(table["scope"], table["outcome"], strict=True)), table


SPREAD = np.random.default_rng(0).normal(size=20)  # one noise pattern per seed, centred to mean 0 below
SPREAD = (SPREAD - SPREAD.mean()) / SPREAD.std(ddof=1)


def test_pooled_pairs_can_show_non_inferiority_that_one_task_cannot_and_that_is_not_equivalence():
    """Mean difference -0.1 with sd 1: on the 60 pooled pairs the 90% interval [-0.32, +0.12] reaches below -0.25
    (not equivalent) and stays below +0.25 (non-inferior), and no test calls the difference significant."""
    outcomes, table = _outcomes(_fast_vs_stock(lambda d, seed: -0.1 + SPREAD[seed]))
    assert outcomes["pooled (points)"] == "non-inferior (+0.25)"
    pooled = table.set_index("scope").loc["pooled (points)"]
    assert pooled["pairs"] == 60 and pooled["p_noninferior_holm"] < 0.05 < pooled["p_equivalent_holm"]
    assert pooled["ci_high"] < 0.25 < -pooled["ci_low"]
    assert outcomes["cifar10"] == "no significant difference"  # 20 pairs: the interval's upper end is above 0.25
    # much better: significantly so ("worse" speaks for the reference), which says more than non-inferior
    assert _outcomes(_fast_vs_stock(lambda d, seed: -0.6 + SPREAD[seed]))[0]["pooled (points)"] == "worse"


def test_a_fast_mode_worse_by_the_margin_is_never_called_non_inferior():
    outcomes, table = _outcomes(_fast_vs_stock(lambda d, seed: 0.25 + 0.5 * SPREAD[seed]))
    assert not {o for o in outcomes.values() if o.startswith(("non-inferior", "equivalent"))}
    in_points = table["value"] == "regret"
    assert (table.loc[in_points, "p_noninferior"] > 0.4).all()  # a mean exactly at the margin: p = 0.5
    assert table.loc[~in_points, "p_noninferior"].isna().all()  # normalised regret: no margin in points


def test_points_pool_only_when_the_tasks_share_a_metric_and_a_margin_is_given():
    frame = _fast_vs_stock(lambda d, seed: -0.1 + SPREAD[seed])
    assert "pooled (points)" not in _outcomes(frame, same_units=False)[0]
    assert "pooled (points)" not in set(paired_comparison(frame, "stock", same_units=True)["scope"])
    assert "pooled" in _outcomes(frame, same_units=False)[0]  # normalised regret pools whatever the metric
