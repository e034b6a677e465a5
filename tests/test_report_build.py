"""The whole report from a real (small) run: verdicts, tables, figures, index.html; empty and partial stores;
``tnasbench compare`` with a searcher registered at run time."""

import re

import numpy as np
import pandas as pd
import pytest

from tnasbench.benchmarks.protocol import Result
from tnasbench.cli import main
from tnasbench.report import build_report
from tnasbench.runner import run_suite
from tnasbench.searchers import Searcher, register
from tnasbench.store import Store
from tnasbench.suite import load_suite

SUITE = """
name = "report-test"
seed = 0
benchmark = "nb201"
datasets = ["cifar10", "cifar100", "imagenet16-120"]
objective = "test@200"
seeds = [0, 1, 2]
budgets = [{{evaluations = 25}}]

[[searchers]]
name = "tnas"
params = {{arch_hidden = 32, head = [32, 16], meta_steps = 10, batch = 64, finetune_epochs = 5}}

[[searchers]]
name = "random-search"

[[searchers]]
name = "regularized-evolution"
{extra}"""


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    (folder / "suite.toml").write_text(SUITE.format(extra=""))
    store = Store(folder / "s.sqlite")
    assert run_suite(load_suite(folder / "suite.toml"), store, show_progress=False)["failed"] == 0
    store.close()
    return folder / "s.sqlite"


def test_full_report_has_verdicts_tables_and_figures(store_path, tmp_path):
    report = build_report(store_path, tmp_path).read_text()
    for hypothesis in ("H1", "H2", "H3"):
        assert re.search(rf"### {hypothesis}: (supported|not supported|inconclusive|cannot be shown)", report)
        assert "Rule (fixed before the data):" in report
    assert "The searchers saw the test metric (test@200)" in report.splitlines()[2]  # the suite searches test@200
    assert "### H2: inconclusive" in report and "no trials of gdas, drnas, setn, pc-darts" in report  # none here
    assert "not in the store: botorch-ei" in report
    assert "## Dataset encoder φ" in report  # tabular targets have no images: each TNAS trial says φ was off
    off = r"off: no images of the target 'cifar10' \(tabular benchmark\)"
    assert re.search(rf"\| tnas +\| cifar10 +\| {off} +\| +3 \|", report)
    for name in ("regret_vs_evaluations", "regret_vs_cost", "rank_over_budget", "accuracy_vs_cost"):
        for suffix in (".png", ".svg"):
            assert (tmp_path / f"{name}{suffix}").stat().st_size > 1000, name
    # one test and diagram per budget, blocks = (dataset, seed): 3 x 3, never budgets
    assert "25 evaluations, N = 9 blocks = (dataset, seed) at 25 evaluations: Friedman p" in report
    # a CD diagram at every budget; where Friedman is not significant the report says no pair is claimed
    assert (tmp_path / "critical_difference_25.png").exists()
    block = re.search(
        r"\(dataset, seed\) at 25 evaluations: Friedman p = ([0-9.e-]+).*\n.*\n(  Not significant)?", report
    )
    assert (float(block.group(1)) < 0.05) == (block.group(2) is None)
    assert "| cifar10        | test@200   |        94.373 |" in report  # the task scale: optimum, floor, ceiling
    compute = pd.read_csv(tmp_path / "searcher_compute.csv").set_index(["dataset", "searcher"])
    assert compute.loc[("cifar10", "tnas"), "meta-training, whole (s)"] > 0  # measured, per trial
    # the published figure beside ours
    assert re.search(r"\| cifar10\s+\| tnas\s+\|\s+3 \| [\d.]+ ± [\d.]+ \| .*\| 94.37 ± 0.00\s+\| 4.27 ", report)
    assert "no: 25 evaluations, the paper 100" in report  # and why the protocol does not match
    latex = (tmp_path / "table2.tex").read_text()
    assert latex.count(r"\begin{") == latex.count(r"\end{") and "imagenet16-120" in latex
    index = (tmp_path / "index.html").read_text()
    assert index.count("data:image/png;base64,") >= 4 and 'href="table1.tex"' in index
    assert 'id="provenance"' in index.replace("'", '"') and "torch" in index  # provenance travels with the page


def test_report_on_an_empty_store_says_what_is_missing(tmp_path):
    Store(tmp_path / "empty.sqlite").close()
    report = build_report(tmp_path / "empty.sqlite", tmp_path / "out").read_text()
    assert "No finished trials yet: run `tnasbench run SUITE --store STORE`" in report
    assert (tmp_path / "out" / "index.html").exists()


def test_report_on_a_partial_store_lists_the_unfinished_trials(store_path, tmp_path):
    import shutil

    partial = tmp_path / "partial.sqlite"
    shutil.copy(store_path, partial)
    store = Store(partial)
    with store.db:
        store.db.execute("UPDATE trials SET status='running' WHERE label='random-search' AND dataset='cifar100'")
    store.close()
    report = build_report(partial, tmp_path / "out").read_text()
    assert "- random-search on cifar100: 3 interrupted" in report  # no live runner holds them
    assert "### H1:" in report  # the statistics still run on what is complete


def test_a_version_bump_reruns_a_searcher_and_reports_count_only_the_new_runs(store_path, tmp_path, monkeypatch):
    import shutil

    from baselines.regularized_evolution import RegularizedEvolution

    bumped = tmp_path / "bumped.sqlite"
    shutil.copy(store_path, bumped)
    (tmp_path / "suite.toml").write_text(SUITE.format(extra=""))
    store = Store(bumped)
    with store.db:  # an old-version run killed midway: the new version's run replaces it as well
        store.db.execute("UPDATE trials SET status='running' WHERE label='regularized-evolution' AND seed=0")
    store.close()
    monkeypatch.setattr(RegularizedEvolution, "version", "changed")
    counts = run_suite(load_suite(tmp_path / "suite.toml"), Store(bumped), show_progress=False)
    assert counts["done"] == 9 and counts["skipped"] == 18  # only the bumped searcher's trials ran again
    trials = Store(bumped).progress()
    status = trials.groupby(["label", "status"]).size().to_dict()
    assert status[("regularized-evolution", "superseded")] == 9 and status[("regularized-evolution", "done")] == 9
    assert "superseded" not in set(trials.loc[trials["label"] != "regularized-evolution", "status"])
    report = build_report(bumped, tmp_path / "out").read_text()
    assert "27 trials done, 0 failed, 0 running, 0 interrupted, 9 superseded by a later run" in report
    assert "Not in the statistics below" not in report  # nothing left to re-run
    final = pd.read_csv(tmp_path / "out" / "final_regret.csv")
    assert (final["trials"] == 3).all()  # three seeds per (dataset, searcher), not six


@register
class GreedyByIndex(Searcher):
    """A deliberately simple searcher defined in a test module and registered at run time."""

    name = "test-greedy-by-index"

    def setup(self, space, context, seed):
        self._space, self._rng = space, np.random.default_rng(seed)

    def ask(self):
        return self._space.sample(self._rng)

    def tell(self, arch, result: Result):
        pass


def test_compare_runs_only_the_new_searchers_trials_then_reports(store_path, tmp_path, capsys):
    import shutil

    store_copy = tmp_path / "s.sqlite"
    shutil.copy(store_path, store_copy)
    before = Store(store_copy).trials()
    args = ["compare", str(store_copy), "--searcher", "test-greedy-by-index", "--out", str(tmp_path / "r"), "--quiet"]
    assert main(args) == 0
    assert "test-greedy-by-index: 9 trials run, 0 already in" in capsys.readouterr().out
    after = Store(store_copy).trials()
    new = after[after["label"] == "test-greedy-by-index"]
    assert len(after) == len(before) + 9
    assert set(zip(new["dataset"], new["seed"], strict=False)) == set(
        zip(before["dataset"], before["seed"], strict=False)
    )
    assert "## Paired comparison with test-greedy-by-index" in (tmp_path / "r" / "report.md").read_text()
    assert main(args) == 0
    assert "0 trials run, 9 already in" in capsys.readouterr().out


def test_paired_section_follows_the_reference_searcher(store_path, tmp_path, capsys):
    report = build_report(store_path, tmp_path / "default").read_text()
    assert "## Paired comparison with tnas" in report  # tnas is the default reference when stored
    assert main(["report", str(store_path), "--out", str(tmp_path / "re"), "--reference", "random-search"]) == 0
    report = (tmp_path / "re" / "report.md").read_text()
    assert "## Paired comparison with random-search" in report
    paired = pd.read_csv(tmp_path / "re" / "paired.csv")
    assert set(paired["searcher"]) == {"tnas", "regularized-evolution"}
    assert (paired["reference"] == "random-search").all()
    assert set(paired.loc[paired["scope"] == "pooled", "pairs"]) == {9}  # (dataset, seed) pairs
    assert set(paired.loc[paired["scope"] != "pooled", "pairs"]) == {3}  # seeds within one task
    assert (paired["ci_low"] <= paired["difference"]).all()
    assert main(["report", str(store_path), "--out", str(tmp_path / "x"), "--reference", "hebo"]) == 2
    assert "--reference 'hebo' has no finished trials" in capsys.readouterr().err


def test_a_margin_adds_the_equivalence_test(store_path, tmp_path, capsys):
    out = tmp_path / "eq"
    assert main(["report", str(store_path), "--out", str(out), "--reference", "random-search", "--margin", "50"]) == 0
    assert "Equivalence (`--margin 50`)" in (out / "report.md").read_text()
    paired = pd.read_csv(out / "paired.csv")
    assert paired["p_equivalent_holm"].between(0, 1).all()
    # a 50-point margin covers any regret difference on NB201: every pair in points is equivalent (per task, and
    # pooled in points: every task reports one metric); normalised regret, where a margin in points means
    # nothing, gets no equivalence or non-inferiority test
    in_points = paired["scope"] != "pooled"
    assert "pooled (points)" in set(paired["scope"])
    assert (paired.loc[in_points, "outcome"] == "equivalent (±50)").all()
    assert (paired.loc[in_points, "p_noninferior_holm"] < 0.05).all()
    assert paired.loc[~in_points, ["p_equivalent", "p_noninferior"]].isna().all().all()
    assert main(["report", str(store_path), "--out", str(out), "--margin", "0"]) == 2
    assert "--margin: must be a positive number of regret points, got '0'" in capsys.readouterr().err


def test_a_margin_without_anything_to_pair_with_is_an_error_not_ignored(tmp_path, capsys):
    (tmp_path / "suite.toml").write_text(
        'name = "no-tnas"\ndatasets = ["cifar10"]\nseeds = [0, 1]\nbudgets = [{evaluations = 5}]\n'
        '[[searchers]]\nname = "random-search"\n[[searchers]]\nname = "local-search"\n'
    )
    store = Store(tmp_path / "s.sqlite")
    run_suite(load_suite(tmp_path / "suite.toml"), store, show_progress=False)
    store.close()
    args = ["report", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "out"), "--margin", "0.25"]
    assert main(args) == 2
    assert "--margin needs a paired comparison" in capsys.readouterr().err
    assert main([*args, "--reference", "random-search"]) == 0
    assert "p_equivalent_holm" in pd.read_csv(tmp_path / "out" / "paired.csv").columns


def test_compare_with_an_unknown_searcher_is_one_line(store_path, capsys):
    assert main(["compare", str(store_path), "--searcher", "tnass"]) == 2
    assert "unknown searcher 'tnass' (did you mean 'tnas'?)" in capsys.readouterr().err


def test_regenerating_a_report_gives_identical_files(store_path, tmp_path):
    build_report(store_path, tmp_path / "a")
    build_report(store_path, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir()) and len(names) > 10
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
