"""One report over stores of different spaces: ranks and CD diagrams pool every task's (task, seed) blocks."""

from tnasbench.cli import main

SUITE = """
name = "{name}"
benchmark = "{benchmark}"
datasets = {datasets}
seeds = [0, 1]
budgets = [{{evaluations = 10}}]
[[searchers]]
name = "random-search"
[[searchers]]
name = "local-search"
[[searchers]]
name = "regularized-evolution"
"""


def test_a_report_pools_stores_of_two_spaces(tmp_path, capsys):
    """A searcher one space alone runs is scored there and left out of the pooled ranks, which keep every block."""
    stores = []
    for name, benchmark, datasets, extra in (
        ("small-nb201", "nb201", '["cifar10", "cifar100"]', '[[searchers]]\nname = "transfer-topk"\n'),
        ("small-graph", "nasbench-graph", '["cora", "photo", "arxiv"]', ""),
    ):
        path = tmp_path / f"{name}.toml"
        path.write_text(SUITE.format(name=name, benchmark=benchmark, datasets=datasets) + extra)
        stores.append(str(tmp_path / f"{name}.sqlite"))
        assert main(["run", str(path), "--store", stores[-1], "--quiet"]) == 0
    out = tmp_path / "cross"
    assert main(["report", *stores, "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "Stores `small-nb201.sqlite`, `small-graph.sqlite`" in text
    assert "N = 10 blocks = (dataset, seed) at 10 evaluations" in text  # 5 tasks x 2 seeds, both spaces
    assert "Not ranked (not run on every benchmark pooled here): transfer-topk." in text  # NB201's only
    assert "transfer-topk" in (out / "table1.csv").read_text()  # still scored where it ran
    assert (out / "critical_difference_10.png").is_file()
    assert "small-graph, small-nb201" in text.splitlines()[0]
    assert main(["report", stores[0], str(tmp_path / "missing.sqlite"), "--out", str(tmp_path / "x")]) == 2
    assert "missing.sqlite" in capsys.readouterr().err and not (tmp_path / "x").exists()
