import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from tnasbench.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tnasbench.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_quickstart_runs_and_reports(tmp_path):
    store, out = tmp_path / "q.sqlite", tmp_path / "report"
    assert (
        main(["run", str(ROOT / "suites" / "quickstart.toml"), "--store", str(store), "--report", str(out), "--quiet"])
        == 0
    )
    text = (out / "report.md").read_text()
    assert "| cifar10 | local-search | 3 | 50 |" in text and "test@200" in text
    assert (out / "regret_vs_evaluations.png").stat().st_size > 10_000
    assert (out / "final_regret.csv").read_text().startswith("dataset,searcher")


def test_export_writes_parquet_and_csv(tmp_path):
    store = tmp_path / "q.sqlite"
    main(["run", str(ROOT / "suites" / "quickstart.toml"), "--store", str(store), "--quiet"])
    assert main(["export", str(store), "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    assert main(["export", str(store), "--format", "parquet", "--out", str(tmp_path / "pq")]) == 0
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "pq" / "observations.parquet")) == 12 * 50
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
    with pytest.raises(
        TnasbenchError, match="plugin 'broken-searcher' \\(no_such_module_xyz:Searcher\\) failed to import"
    ):
        registry.get_searcher("broken-searcher")


def test_a_file_that_is_not_a_store_is_refused(tmp_path, capsys):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("not a database" * 100)
    assert main(["status", str(bogus)]) == 2
    assert "is not a tnasbench store" in capsys.readouterr().err


def test_report_refuses_to_pool_trials_run_on_different_tables(tmp_path, capsys):
    import json
    import sqlite3

    store = tmp_path / "q.sqlite"
    main(["run", str(ROOT / "suites" / "quickstart.toml"), "--store", str(store), "--quiet"])
    with sqlite3.connect(store) as db:
        key, spec = db.execute("SELECT key, spec FROM trials WHERE dataset='cifar10' LIMIT 1").fetchone()
        spec = json.loads(spec)
        spec["signature"] = "test@200=0000000000000000"  # as if run on another version of the table
        db.execute("UPDATE trials SET spec=? WHERE key=?", (json.dumps(spec), key))
    assert main(["report", str(store), "--out", str(tmp_path / "r")]) == 2
    assert "pools cifar10 trials run on different tables" in capsys.readouterr().err
