"""``tnasbench verify``: a sound store passes; lost observations, edited specs, other data, corrupt files do not."""

import json
import shutil
from dataclasses import asdict, replace

import pytest

from tnasbench.cli import main
from tnasbench.runner import run_suite
from tnasbench.store import Store
from tnasbench.suite import TrialSpec, load_suite

SUITE = """
name = "verify-test"
datasets = ["cifar10"]
seeds = [0, 1]
budgets = [{evaluations = 15}]
[[searchers]]
name = "random-search"
"""


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verify")
    (folder / "suite.toml").write_text(SUITE)
    store = Store(folder / "s.sqlite")
    run_suite(load_suite(folder / "suite.toml"), store, show_progress=False)
    store.close()
    return folder / "s.sqlite"


@pytest.fixture
def copy(sound, tmp_path):
    shutil.copy(sound, tmp_path / "c.sqlite")
    return tmp_path / "c.sqlite"


def test_a_sound_store_verifies(sound, capsys):
    assert main(["verify", str(sound)]) == 0
    assert "2 finished trials, all sound" in capsys.readouterr().out


def test_a_lost_observation_is_found(copy, capsys):
    store = Store(copy)
    with store.db:
        store.db.execute("DELETE FROM observations WHERE step = 7 AND trial = (SELECT MIN(key) FROM trials)")
    store.close()
    assert main(["verify", str(copy)]) == 1
    assert "14 observations, steps 1..15" in capsys.readouterr().out


def test_a_hand_edited_spec_and_data_from_another_table_are_found(copy, capsys):
    store = Store(copy)
    for key, text in store.db.execute("SELECT key, spec FROM trials").fetchall():
        spec = json.loads(text) | {"signature": "cell0=12.34"}  # as if every trial ran on a different NB201 table
        with store.db:
            store.db.execute("UPDATE trials SET spec=? WHERE key=?", (json.dumps(spec), key))
    store.close()
    assert main(["verify", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "hashes to" in out and "trials were run on data cell0=12.34, the data here is" in out


def test_a_run_superseded_by_one_on_newer_data_is_not_flagged(copy, capsys):
    store = Store(copy)
    cursor = store.db.execute("SELECT * FROM trials ORDER BY key LIMIT 1")
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    newer_key = row["key"]
    older = replace(TrialSpec.from_json(row["spec"]), signature="cell0=12.34")  # as if run on an earlier table
    row |= {"key": older.key, "spec": json.dumps(asdict(older), sort_keys=True), "finished": row["finished"] - 60}
    with store.db:
        store.db.execute(f"INSERT INTO trials VALUES ({','.join('?' * len(row))})", list(row.values()))
        store.db.execute(
            "INSERT INTO observations SELECT ?, step, arch, epochs, objective, reported, regret, cost_seconds, "
            "wall_seconds, cell FROM observations WHERE trial=?",
            (older.key, newer_key),
        )
    killed = replace(older, signature="cell0=56.78")  # an even older run, killed before it finished
    row |= {"key": killed.key, "spec": json.dumps(asdict(killed), sort_keys=True), "status": "running"}
    with store.db:
        store.db.execute(
            f"INSERT INTO trials VALUES ({','.join('?' * len(row))})",
            list((row | {"finished": None, "lease_until": None}).values()),
        )
    assert main(["verify", str(copy)]) == 0  # the later run, on the data here, is the one that counts
    assert "2 finished trials, all sound" in capsys.readouterr().out
    with store.db:  # without the later run the older one is stale: the other seed's trial ran on newer data
        store.db.execute("DELETE FROM trials WHERE key=?", (newer_key,))
    assert main(["verify", str(copy)]) == 0
    assert "stale: 1 trials ran on older data" in capsys.readouterr().out
    with store.db:  # and without that one too, the older run counts again, and its data no longer match
        store.db.execute("DELETE FROM trials WHERE status='done' AND key NOT IN (?, ?)", (older.key, killed.key))
    store.close()
    assert main(["verify", str(copy)]) == 1
    assert "trials were run on data cell0=12.34" in capsys.readouterr().out


def test_a_corrupt_file_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "bad.sqlite").write_bytes(b"this is not sqlite" * 100)
    assert main(["verify", str(tmp_path / "bad.sqlite")]) == 2
    assert "is not a tnasbench store" in capsys.readouterr().err


def _lose_a_step(path):
    store = Store(path)
    with store.db:
        store.db.execute("DELETE FROM observations WHERE step = 7 AND trial = (SELECT MIN(key) FROM trials)")
    store.close()


def test_verify_repair_redoes_a_trial_with_lost_observations(copy, sound, capsys):
    _lose_a_step(copy)
    assert main(["verify", str(copy), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "repair: 1 trials with incomplete observations redone" in out and "2 finished trials, all sound" in out
    columns = ["trial", "step", "arch", "objective", "reported", "regret"]
    assert Store(copy).observations()[columns].equals(Store(sound).observations()[columns])  # same seed, same run


def test_run_redoes_a_done_trial_with_lost_observations(copy, tmp_path):
    _lose_a_step(copy)
    (tmp_path / "suite.toml").write_text(SUITE)
    counts = run_suite(load_suite(tmp_path / "suite.toml"), Store(copy), show_progress=False)
    assert (counts["done"], counts["skipped"]) == (1, 1)
    assert main(["verify", str(copy)]) == 0


def test_a_label_naming_two_searchers_is_flagged(copy, capsys):
    store = Store(copy)
    with store.db:
        store.db.execute("UPDATE trials SET searcher='local-search' WHERE key=(SELECT MIN(key) FROM trials)")
    store.close()
    assert main(["verify", str(copy)]) == 1
    assert "label 'random-search' pools 2 searchers or settings (local-search {}; random-search {})" in (
        capsys.readouterr().out
    )


def test_replay_finds_the_same_evaluations_in_a_sound_store(sound, capsys):
    assert main(["verify", str(sound), "--replay", "1"]) == 0
    out = capsys.readouterr().out
    assert "replay random-search on cifar10, seed 0" in out and "same 15 evaluations" in out
    assert "all sound, 1 of 1 replays the same" in out


def test_replay_flags_a_trial_whose_evaluations_changed(copy, capsys):
    store = Store(copy)
    with store.db:  # as if the code now proposed another cell at evaluation 9 from the same seed
        store.db.execute(
            "UPDATE observations SET arch = (arch + 1) % 15625 WHERE step = 9 AND trial = "
            "(SELECT key FROM trials WHERE seed = 0)"
        )
    store.close()
    assert main(["verify", str(copy), "--replay", "2"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS from evaluation 9: stored cell" in out and "bump its version" in out
    assert "1 of 2 replays the same" in out


def test_a_difference_in_a_trial_from_another_machine_names_the_machine_not_the_code(copy, capsys):
    store = Store(copy)
    with store.db:  # the trial ran elsewhere (another CPU's BLAS kernels), and its evaluations part at 9
        row = store.db.execute("SELECT key, provenance FROM trials WHERE seed = 0").fetchone()
        facts = json.loads(row[1]) | {"blas": "openblas 0.3.31 SkylakeX", "cpu_model": "Some Other CPU"}
        store.db.execute("UPDATE trials SET provenance = ? WHERE key = ?", (json.dumps(facts), row[0]))
        store.db.execute("UPDATE observations SET arch = (arch + 1) % 15625 WHERE step = 9 AND trial = ?", (row[0],))
    store.close()
    assert main(["verify", str(copy), "--replay", "1"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS from evaluation 9" in out and "it ran on another machine" in out and "bump" not in out
    assert "blas 'openblas 0.3.31 SkylakeX' there" in out and "cpu_model 'Some Other CPU' there" in out


def test_provenance_names_the_cpu_and_its_blas_kernels():
    from tnasbench.provenance import machine, provenance

    facts = machine(provenance())
    assert set(facts) == {"platform", "cpu_model", "blas", "torch_cpu"} and all(facts.values())
    assert facts["blas"].split()[0] in {"openblas", "mkl", "blis", "flexiblas", "accelerate"}


def test_a_trial_that_fails_on_replay_is_a_difference(copy, capsys, monkeypatch):
    from tnasbench.searchers.random_search import RandomSearch

    def broken(self):
        raise RuntimeError("a bug introduced since the store was made")

    monkeypatch.setattr(RandomSearch, "ask", broken)
    assert main(["verify", str(copy), "--replay", "1"]) == 1
    assert "FAILED on replay: RuntimeError: a bug introduced since the store was made" in capsys.readouterr().out


def test_replay_leaves_trials_of_another_searcher_version_alone(copy, capsys, monkeypatch):
    from tnasbench.searchers.random_search import RandomSearch

    monkeypatch.setattr(RandomSearch, "version", "99")
    assert main(["verify", str(copy), "--replay", "1"]) == 0
    out = capsys.readouterr().out
    assert "not replayed: its searcher's version or its data changed since it ran" in out
    assert "0 of 1 replays the same" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replay", "0"], "must be at least 1, got 0"),
        (["--replay", "two"], "must be a whole number, got 'two'"),
        (["--replay", "1", "--label", "tnas"], "--label tnas: no finished trials with that label"),
        (["--label", "random-search"], "--label chooses which trials --replay runs again: add --replay N"),
    ],
)
def test_bad_replay_arguments_are_one_line(sound, capsys, argv, message):
    assert main(["verify", str(sound), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_replay_meta_trains_afresh_instead_of_loading_the_cached_model(fresh_home, tmp_path, capsys):
    """A cached meta-trained model would hide a change in meta-training: the replay trains into a temporary cache."""
    (tmp_path / "suite.toml").write_text(
        SUITE.replace("seeds = [0, 1]", "seeds = [0]").replace("evaluations = 15", "evaluations = 7")
        + '[[searchers]]\nname = "tnas"\nparams = {meta_steps = 3, initial = 3}\n'
    )
    store = Store(tmp_path / "t.sqlite")
    run_suite(load_suite(tmp_path / "suite.toml"), store, show_progress=False)
    store.close()
    cache = fresh_home / "tnas"
    for path in cache.iterdir():  # a replay that loaded the cache would now fail to find it, and write it again
        path.unlink()
    assert main(["verify", str(tmp_path / "t.sqlite"), "--replay", "1", "--label", "tnas"]) == 0
    assert "replay tnas on cifar10, seed 0" in capsys.readouterr().out
    assert list(cache.iterdir()) == []
