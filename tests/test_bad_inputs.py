"""Every bad input is one line on stderr naming the problem and the fix, exit code 2, and nothing changed.

Each case builds its input in a fresh folder holding a copy of a sound store; the CLI runs in-process.
After the refusal the store's bytes, the table cache and the folder's other files are as they were.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tnasbench.benchmarks.tables import data_home
from tnasbench.cli import main
from tnasbench.runner import run_suite
from tnasbench.store import Store
from tnasbench.suite import load_suite
from tnasbench.testing import EPOCH12

ROOT = Path(__file__).resolve().parent.parent
SUITE = """
name = "bad-inputs"
datasets = ["cifar10"]
seeds = [0, 1]
budgets = [{evaluations = 5}]
[[searchers]]
name = "random-search"
"""


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sound")
    (folder / "suite.toml").write_text(SUITE)
    store = Store(folder / "s.sqlite")
    run_suite(load_suite(folder / "suite.toml"), store, show_progress=False)
    store.close()
    return folder / "s.sqlite"


def suite(tmp: Path, text: str | bytes, name: str = "bad.toml") -> str:
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def budget(tmp: Path, line: str) -> list[str]:
    return ["run", suite(tmp, SUITE.replace("evaluations = 5", line)), "--store", str(tmp / "new.sqlite")]


def foreign_sqlite(tmp: Path) -> list[str]:
    with closing(sqlite3.connect(tmp / "other.sqlite")) as db, db:
        db.execute("CREATE TABLE people (name TEXT)")
        db.execute("INSERT INTO people VALUES ('ada')")
    return ["status", str(tmp / "other.sqlite")]


def schema_version(tmp: Path, value: str) -> None:
    with closing(sqlite3.connect(tmp / "s.sqlite")) as db, db:  # closed: the WAL is written back now
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (value,))


def corrupt_pages(tmp: Path) -> None:
    data = bytearray((tmp / "s.sqlite").read_bytes())
    page = 4096
    data[2 * page : 2 * page + 512] = os.urandom(512)  # a page of the trials or observations table
    (tmp / "s.sqlite").write_bytes(bytes(data))


def altered_table(tmp: Path) -> str:
    lines = EPOCH12.read_text().splitlines(keepends=True)
    lines[1:] = [lines[1], lines[3], lines[2], *lines[4:]]  # values of two cells swapped, rows kept in order
    first, second = lines[2].split(","), lines[3].split(",")
    first[1], second[1] = second[1], first[1]
    lines[2], lines[3] = ",".join(first), ",".join(second)
    (tmp / "renamed.csv").write_text("".join(lines))
    return str(tmp / "renamed.csv")


def home_under_a_file(tmp: Path, monkeypatch) -> None:
    (tmp / "plain-file").write_text("x")
    monkeypatch.setenv("TNASBENCH_HOME", str(tmp / "plain-file" / "home"))


LARGE_SPACE_SUITE = """name = "large"
benchmark = "ofa-imagenet"
datasets = ["imagenet"]
seeds = [0]
budgets = [{evaluations = 5}]
[[searchers]]
name = "tnas"
"""
LIVE_SUITE = """name = "live"
benchmark = "nb201-live"
datasets = ["digits"]
seeds = [0]
budgets = [{evaluations = 5}]
[[searchers]]
name = "random-search"
[live]
"""
STORE = "{tmp}/s.sqlite"
RELABELLED = SUITE.replace('"random-search"\n', '"local-search"\nlabel = "random-search"\n')
QUICK = str(ROOT / "suites" / "quickstart.toml")
CASES = [  # (id, argv or a function of the folder giving it, message pattern, set-up run first)
    ("seconds inf", lambda t: budget(t, "seconds = inf"), "budget seconds must be a finite positive number, got inf"),
    ("seconds nan", lambda t: budget(t, "seconds = nan"), "budget seconds must be a finite positive number, got nan"),
    ("evaluations 1e9", lambda t: budget(t, "evaluations = 1e9"), "must be a finite positive integer"),
    ("evaluations huge", lambda t: budget(t, "evaluations = 1000000000"), "at most 15,625"),
    ("evaluations 20000", lambda t: budget(t, "evaluations = 20000"), "at most 15,625 \\(the cells in the space\\)"),
    ("negative seed", lambda t: ["run", suite(t, SUITE.replace("[0, 1]", "[-1]"))], "seeds must be integers from 0"),
    ("seed 1e20", lambda t: ["run", suite(t, SUITE.replace("[0, 1]", "[100000000000000000000]"))], "from 0 to"),
    (
        "non-UTF-8 suite",
        lambda t: ["run", suite(t, SUITE.replace("bad-inputs", "b\xe9d").encode("latin-1"))],
        "not UTF-8 text",
    ),
    (
        "suite name escapes",
        lambda t: ["run", suite(t, SUITE.replace("bad-inputs", "../../etc/x"))],
        "name must be letters, digits",
    ),
    ("suite is a folder", ["run", "{tmp}"], "is a folder: pass a suite file"),
    ("empty suite label", lambda t: ["run", suite(t, SUITE + 'label = ""\n')], "must be a non-empty string"),
    ("trial_timeout 0", lambda t: ["run", suite(t, "trial_timeout = 0\n" + SUITE)], "trial_timeout .* finite"),
    (
        "label reused by a suite",
        lambda t: ["run", suite(t, RELABELLED), "--store", str(t / "s.sqlite")],
        "label 'random-search' already names",
    ),
    (
        "label reused by compare",
        ["compare", STORE, "--searcher", "local-search", "--label", "random-search"],
        "label 'random-search' already names searcher random-search",
    ),
    (
        "same label, other params",
        ["compare", STORE, "--searcher", "random-search", "--params", '{"epochs": 12}'],
        "already names searcher random-search with params {}",
    ),
    ("empty compare label", ["compare", STORE, "--searcher", "local-search", "--label", ""], "must not be empty"),
    (
        "params not an object",
        ["compare", STORE, "--searcher", "local-search", "--params", "[1,2]"],
        "argument --params: must be a JSON object",
    ),
    ("params not JSON", ["compare", STORE, "--searcher", "local-search", "--params", "{x"], "not valid JSON"),
    (
        "unknown param",
        ["compare", STORE, "--searcher", "random-search", "--label", "rs2", "--params", '{"epoch": 12}'],
        "unknown parameter 'epoch' \\(did you mean 'epochs'\\?\\)",
    ),
    ("unknown suite param", lambda t: ["run", suite(t, SUITE + "params = {populaton = 3}\n")], "unknown parameter"),
    ("jobs 0", ["run", QUICK, "--jobs", "0", "--store", "{tmp}/new.sqlite"], "argument --jobs: must be at least 1"),
    ("jobs 1000", ["run", QUICK, "--jobs", "1000", "--store", "{tmp}/new.sqlite"], "at most \\d+ \\(the CPUs here\\)"),
    ("jobs not a number", ["compare", STORE, "--searcher", "local-search", "--jobs", "two"], "must be a whole number"),
    ("trial timeout inf", ["run", QUICK, "--trial-timeout", "inf"], "finite positive number of seconds"),
    (
        "bad scheduler",
        ["run", QUICK, "--scheduler", "not a url", "--store", "{tmp}/new.sqlite"],
        "not a Dask scheduler address: pass e.g. tcp://host:8786",
    ),
    ("report --out is a file", ["report", STORE, "--out", "{tmp}/suite.toml"], "is a file: pass a folder"),
    ("export --out under a file", ["export", STORE, "--out", "{tmp}/suite.toml/x"], "lies under .* which is a file"),
    ("run --report is a file", ["run", QUICK, "--report", "{tmp}/suite.toml"], "argument --report: .* is a file"),
    (
        "compare --out is a file",
        ["compare", STORE, "--searcher", "local-search", "--out", "{tmp}/suite.toml"],
        "is a file",
    ),
    ("store under a file", ["run", QUICK, "--store", "{tmp}/suite.toml/s.sqlite"], "lies under .* which is a file"),
    ("store is a folder", ["status", "{tmp}"], "is a folder, not a store"),
    ("no such store", ["report", "{tmp}/none.sqlite"], "no such store"),
    ("foreign SQLite", foreign_sqlite, "is a SQLite database but not a tnasbench store \\(tables people\\)"),
    (
        "zero-byte store",
        ["status", "{tmp}/empty.sqlite"],
        "is an empty file, not a tnasbench store",
        lambda t: (t / "empty.sqlite").write_bytes(b""),
    ),
    ("not SQLite", ["verify", "{tmp}/suite.toml"], "is not a tnasbench store"),
    (
        "schema not a number",
        ["status", STORE],
        "schema version 'three' is not a number",
        lambda t: schema_version(t, "three"),
    ),
    ("schema from the future", ["export", STORE], "schema 99, this tnasbench reads", lambda t: schema_version(t, "99")),
    (
        "page-corrupted store",
        ["report", STORE, "--out", "{tmp}/r"],
        "damaged|not a tnasbench store|malformed",
        corrupt_pages,
    ),
    ("altered renamed table", lambda t: ["data", "import", altered_table(t)], "not that of a known NB201 table"),
    (
        "binary CSV",
        ["data", "import", "{tmp}/x.csv"],
        "not a CSV text file",
        lambda t: (t / "x.csv").write_bytes(os.urandom(100_000)),
    ),
    (
        "CSV is a folder",
        ["data", "import", "{tmp}/folder.csv"],
        "is a folder: pass the table file itself",
        lambda t: (t / "folder.csv").mkdir(),
    ),
    ("no such table", ["data", "import", "{tmp}/none.csv"], "no such file"),
    ("no such predictor", ["data", "import", "{tmp}/acc_predictor.pth"], "no such file .*OFA authors"),
    (
        "not OFA's predictor",
        ["data", "import", "{tmp}/acc_predictor.pth"],
        "not that of OFA's acc_predictor.pth",
        lambda t: (t / "acc_predictor.pth").write_bytes(os.urandom(1000)),
    ),
    ("meta-trained TNAS on one task", lambda t: ["run", suite(t, LARGE_SPACE_SUITE)], "has a single task"),
    (
        "width_multiplier on NB201",
        lambda t: ["run", suite(t, LIVE_SUITE + "width_multiplier = 0.5\n")],
        "width_multiplier sizes MobileNetV3 subnets",
    ),
    (
        "one bad table among good",
        lambda t: ["data", "import", str(EPOCH12), str(t / "x.csv")],
        "not a CSV text file",
        lambda t: (t / "x.csv").write_bytes(b"\xff\xfe" * 100),
    ),
    (
        "unwritable TNASBENCH_HOME",
        ["data", "import", str(EPOCH12)],
        "cannot write the table cache .*TNASBENCH_HOME",
        "home under a file",
    ),
    ("margin negative", ["report", STORE, "--margin", "-1"], "must be a positive number of regret points"),
    ("unknown searcher", ["compare", STORE, "--searcher", "random-serch"], "did you mean 'random-search'"),
    ("import a missing file", ["compare", STORE, "--searcher", "x", "--import", "{tmp}/none.py"], "no such file"),
    ("missing subcommand argument", ["status"], "the following arguments are required: store"),
    (
        "an encoding the space lacks",
        lambda t: [
            "run",
            suite(
                t,
                'name = "g"\nbenchmark = "nasbench-graph"\ndatasets = ["cora"]\nseeds = [0]\n'
                'budgets = [{evaluations = 5}]\n[[searchers]]\nname = "botorch-ei"\n'
                'params = {encoding = "path"}\n',
            ),
        ],
        "botorch-ei' on benchmark 'nasbench-graph': the nasbench-graph space has no path encoding",
    ),  # fmt: skip
    (
        "PC-DARTS channels not divisible",
        lambda t: ["run", suite(t, SUITE.replace('"random-search"', '"pc-darts"\nparams = {channels = 6}'))],
        "channels = 6 does not split into partial_channels = 4 equal parts",
    ),
]


def snapshot(folder: Path) -> dict[str, str]:
    """Checksums of the files under ``folder``; of a SQLite database, its content as SQLite reads it
    (with what its write-ahead log holds), so that uncheckpointed writes count as changes."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))]
    return {str(p.relative_to(folder)): _content(p) for p in files}


def _content(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"SQLite format 3\0"):
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                data = "\n".join(db.iterdump()).encode()
        except sqlite3.DatabaseError:
            pass  # a damaged database: its bytes
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "argv, message, prepare", [pytest.param(c[1], c[2], c[3] if len(c) > 3 else None, id=c[0]) for c in CASES]
)
def test_a_bad_input_is_one_line_exit_2_and_changes_nothing(
    sound, tmp_path, monkeypatch, capsys, argv, message, prepare
):
    shutil.copy(sound, tmp_path / "s.sqlite")
    (tmp_path / "suite.toml").write_text(SUITE)
    if prepare == "home under a file":
        home_under_a_file(tmp_path, monkeypatch)
    elif prepare:
        prepare(tmp_path)
    argv = argv(tmp_path) if callable(argv) else [a.replace("{tmp}", str(tmp_path)) for a in argv]
    before, cache = snapshot(tmp_path), snapshot(data_home())
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tnasbench: error: "), err
    assert re.search(message, err), err
    assert snapshot(tmp_path) == before and snapshot(data_home()) == cache
    assert not (tmp_path / "new.sqlite").exists() and not (tmp_path / "results").exists()


def test_a_broken_pipe_is_quiet(tmp_path):
    reader = "import sys; sys.stdin.readline()"
    writer = subprocess.Popen(
        [sys.executable, "-m", "tnasbench.cli", "data", "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    subprocess.run([sys.executable, "-c", reader], stdin=writer.stdout, check=True)
    writer.stdout.close()
    assert "Traceback" not in writer.communicate(timeout=120)[1].decode()


def test_a_read_only_store_can_be_read(sound, tmp_path, capsys):
    """status, export and verify on an archived store (file and folder read-only), which stays as it was."""
    folder = tmp_path / "archive"
    folder.mkdir()
    shutil.copy(sound, folder / "s.sqlite")
    os.chmod(folder / "s.sqlite", 0o444)
    os.chmod(folder, 0o555)
    before = snapshot(folder)
    path = str(folder / "s.sqlite")
    try:
        assert main(["status", path]) == 0 and "random-search" in capsys.readouterr().out
        assert main(["verify", path]) == 0
        assert main(["export", path, "--format", "csv", "--out", str(tmp_path / "out")]) == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # read through mode=ro, even by root
            Store(path, readonly=True).db.execute("CREATE TABLE probe (x)")
    finally:
        os.chmod(folder, 0o755)
    assert snapshot(folder) == before


def test_status_on_a_foreign_database_leaves_it_as_it_was(tmp_path, capsys):
    argv = foreign_sqlite(tmp_path)
    before = (tmp_path / "other.sqlite").read_bytes()
    assert main(argv) == 2
    assert (tmp_path / "other.sqlite").read_bytes() == before
    with closing(sqlite3.connect(tmp_path / "other.sqlite")) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["people"]


def test_an_unreachable_scheduler_claims_nothing(sound, tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")

    def refuse(address, timeout):
        raise OSError(f"Timed out trying to connect to {address}")

    monkeypatch.setattr(distributed, "Client", refuse)
    (tmp_path / "suite.toml").write_text(SUITE.replace("seeds = [0, 1]", "seeds = [0, 1, 2]"))
    shutil.copy(sound, tmp_path / "s.sqlite")
    before = snapshot(tmp_path)
    argv = ["run", str(tmp_path / "suite.toml"), "--store", str(tmp_path / "s.sqlite"), "--scheduler", "tcp://h:1"]
    assert main(argv) == 2
    assert "cannot reach the Dask scheduler at tcp://h:1" in capsys.readouterr().err
    assert snapshot(tmp_path) == before  # the third seed's trial was not claimed
