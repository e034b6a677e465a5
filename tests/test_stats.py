"""Statistics and verdicts against hand-computed cases; verdicts flip when the data flip."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tnasbench.report.hypotheses import h1, h2, h3
from tnasbench.report.stats import friedman_nemenyi, paired_comparison, ranks, tost_p
from tnasbench.report.tables import latex_escape, to_latex

RIVALS = ("random-search", "botorch-ei", "botorch-ucb", "hebo", "bananas", "nasbowl")


def at_budgets(regret_of, datasets=("cifar10", "cifar100", "imagenet16-120"), budgets=(10, 100), seeds=range(5)):
    """A regret frame where ``regret_of(searcher, dataset, budget, seed)`` gives each value."""
    rows = [
        (d, s, seed, b, regret_of(s, d, b, seed))
        for d in datasets
        for b in budgets
        for seed in seeds
        for s in ("tnas", *RIVALS)
    ]
    return pd.DataFrame(rows, columns=["dataset", "searcher", "seed", "budget", "regret"])


def test_ranks_by_hand_with_a_tie():
    frame = pd.DataFrame(
        [("c10", "a", 0, 10, 0.5), ("c10", "b", 0, 10, 0.5), ("c10", "c", 0, 10, 2.0)],
        columns=["dataset", "searcher", "seed", "budget", "regret"],
    )
    got = ranks(frame).set_index("searcher")["rank"].to_dict()
    assert got == {"a": 1.5, "b": 1.5, "c": 3.0}


def test_friedman_statistic_of_a_known_case():
    # six blocks, the same strict order in each: mean ranks 1, 2, 3 and chi2 = 12N/(k(k+1)) sum R^2 - 3N(k+1) = 12
    table = pd.DataFrame({"a": np.arange(6) * 0.1, "b": np.arange(6) * 0.1 + 1, "c": np.arange(6) * 0.1 + 2})
    assert stats.friedmanchisquare(table.a, table.b, table.c).statistic == pytest.approx(12.0)
    test = friedman_nemenyi(table)
    assert test.mean_ranks == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert test.friedman_p == pytest.approx(stats.chi2.sf(12.0, 2))  # = exp(-6)
    # Nemenyi CD = q_0.05(k=3) * sqrt(k(k+1)/(6N)) with q = 2.343 (Demšar 2006, Table 5)
    assert test.critical_difference == pytest.approx(2.343 * np.sqrt(3 * 4 / 36), abs=1e-3)
    assert friedman_nemenyi(table.iloc[:4]) is None  # autorank needs five blocks
    assert friedman_nemenyi(table[["a", "b"]]) is None  # and three searchers for Friedman


def test_wilcoxon_holm_and_t_interval_by_hand():
    frame = pd.DataFrame(
        [("d", s, seed, 10, r) for seed in range(10) for s, r in (("ref", 0.0), ("x", 1.0 + seed), ("y", 0.0))],
        columns=["dataset", "searcher", "seed", "budget", "regret"],
    )
    table = paired_comparison(frame, "ref").set_index("searcher")
    assert table.loc["x", "p"] == pytest.approx(2 / 2**10)  # exact two-sided: every difference positive
    assert table.loc["x", "p_holm"] == pytest.approx(2 * 2 / 2**10)  # two comparisons, the smaller p doubled
    assert table.loc["x", "outcome"] == "better"
    assert table.loc["y", "p"] == 1.0 and table.loc["y", "outcome"] == "no significant difference"
    # differences 1..10: mean 5.5, sd 3.028, t_0.975(9) = 2.262 -> 5.5 ± 2.166
    assert table.loc["x", ["difference", "ci_low", "ci_high"]].tolist() == pytest.approx([5.5, 3.334, 7.666], abs=1e-3)
    assert table.loc["y", ["ci_low", "ci_high"]].tolist() == [0.0, 0.0]


def test_equivalence_by_hand():
    # differences ±0.1 over 10 pairs: mean 0, se = sd/sqrt(10) = 0.1054/3.162 = 0.0333
    spread = pd.Series([-0.1, 0.1] * 5)
    se = spread.std() / np.sqrt(10)
    assert tost_p(spread, 0.1) == pytest.approx(stats.t.sf(0.1 / se, 9))  # t = 3.0 -> 0.0075
    assert tost_p(spread, 0.05) > 0.05  # the 90% interval (±0.061) reaches past ±0.05
    assert tost_p(spread + 0.08, 0.1) > 0.05  # shifted towards the edge: not shown inside
    assert tost_p(pd.Series([0.0] * 4), 0.1) == 0.0 and tost_p(pd.Series([0.2] * 4), 0.1) == 1.0
    assert np.isnan(tost_p(pd.Series([0.0]), 0.1))

    frame = pd.DataFrame(
        [("d", s, seed, 10, r) for seed in range(10) for s, r in (("ref", 1.0), ("x", 1.0 + spread[seed]), ("y", 3.0))],
        columns=["dataset", "searcher", "seed", "budget", "regret"],
    )
    table = paired_comparison(frame, "ref", margin=0.1).set_index("searcher")
    assert table.loc["x", "outcome"] == "equivalent (±0.1)"
    assert table.loc["y", "outcome"] == "better"  # regret 2 points higher: neither equivalent nor tied
    assert "p_equivalent_holm" not in paired_comparison(frame, "ref").columns  # no margin, no TOST


def test_h1_and_h3_flip_when_the_data_flip():
    def tnas_best(s, d, b, seed):
        return 0.0 if s == "tnas" else 1.0 + seed + RIVALS.index(s)

    def tnas_worst(s, d, b, seed):
        return 10.0 + seed if s == "tnas" else 1.0 + RIVALS.index(s)

    good, bad = at_budgets(tnas_best), at_budgets(tnas_worst)
    assert h1(good).verdict == "supported"
    assert h1(bad).verdict == "not supported"
    assert h3(ranks(good)).verdict == "supported"
    one_missing = good[~((good["dataset"] == "cifar100") & (good["searcher"] == "hebo"))]
    assert h3(ranks(one_missing), set(good["dataset"])).verdict == "inconclusive"
    assert h3(ranks(bad)).verdict == "not supported"
    partial = good[good["searcher"].isin(["tnas", "random-search", "bananas"])]
    assert h1(partial).verdict == "inconclusive"  # wins over two rivals do not make the whole claim
    assert "not in the store: botorch-ei, botorch-ucb, hebo, nasbowl" in " ".join(h1(partial).reasons)


def test_h1_without_tnas_is_inconclusive():
    frame = at_budgets(lambda s, d, b, seed: 1.0)
    assert h1(frame[frame["searcher"] != "tnas"]).verdict == "inconclusive"


def test_h2_compares_cost_and_accuracy_and_flips():
    def final(tnas_cost):
        return pd.DataFrame(
            [
                ("cifar10", "tnas", 94.37, tnas_cost, "estimated"),
                ("cifar10", "gdas", 93.6, 0.3 * 86400, "measured"),
            ],
            columns=["dataset", "searcher", "accuracy", "cost_seconds", "cost_kind"],
        )

    assert h2(final(0.4 * 86400)).verdict == "supported"
    cheap_loses = h2(final(4.3 * 86400))
    assert cheap_loses.verdict == "not supported"
    assert "estimated" in cheap_loses.reasons[0] and "measured" in cheap_loses.reasons[0]
    assert h2(final(1.0)[lambda f: f.searcher == "tnas"]).verdict == "inconclusive"


def test_latex_is_escaped_and_balanced():
    frame = pd.DataFrame({"searcher": ["tnas_nodata", "50% & more"], "regret@10": ["0.1 ± 0.0", "{x}"]})
    latex = to_latex(frame, "caption with_underscore")
    assert r"tnas\_nodata" in latex and r"50\% \& more" in latex and r"\{x\}" in latex
    assert latex.count(r"\begin{") == latex.count(r"\end{")
    body = latex.replace(r"\{", "").replace(r"\}", "")
    assert body.count("{") == body.count("}")
    assert latex_escape("a_b") == r"a\_b"
