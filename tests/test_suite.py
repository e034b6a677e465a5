from pathlib import Path

import pytest

from tnasbench.errors import TnasbenchError
from tnasbench.searchers import register
from tnasbench.searchers.random_search import RandomSearch
from tnasbench.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
GOOD = """
name = "t"
datasets = ["cifar10"]
seeds = [0, 1]
budgets = [{evaluations = 10}]
[[searchers]]
name = "random-search"
"""


def write(tmp_path, text):
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


def test_shipped_suites_load():
    for path in sorted((ROOT / "suites").glob("*.toml")):
        suite = load_suite(path)
        assert suite.trials()


def test_trials_expand_the_product():
    suite = load_suite(ROOT / "suites" / "nb201.toml")
    assert len(suite.trials()) == 3 * 10 * len(suite.searchers)
    assert len({t.key for t in suite.trials()}) == len(suite.trials())


def test_trials_come_block_by_block_so_a_stopped_run_leaves_whole_blocks():
    suite = load_suite(ROOT / "suites" / "transnas101.toml")
    trials, per_block = suite.trials(), len(suite.searchers)
    starts = range(0, 3 * per_block, per_block)
    first_blocks = [{(t.seed, t.dataset) for t in trials[i : i + per_block]} for i in starts]
    assert first_blocks == [{(0, "class_scene")}, {(0, "class_object")}, {(0, "jigsaw")}]
    assert {t.label for t in trials[:per_block]} == {label for _, label, _ in suite.searchers}


def test_seeds_do_not_depend_on_listing_order(tmp_path):
    a = load_suite(write(tmp_path, GOOD + '[[searchers]]\nname = "local-search"\n')).trials()
    b_text = GOOD.replace('name = "random-search"', 'name = "local-search"') + '[[searchers]]\nname = "random-search"\n'
    b = load_suite(write(tmp_path, b_text)).trials()
    seeds = lambda trials: {(t.label, t.seed): (t.searcher_seed, t.benchmark_seed, t.key) for t in trials}  # noqa: E731
    assert seeds(a) == seeds(b)


def test_benchmark_seed_is_shared_by_searchers_and_searcher_seed_by_variants_of_one(tmp_path):
    variant = '[[searchers]]\nname = "random-search"\nlabel = "rs-low"\nparams = {epochs = 12}\n'
    trials = load_suite(write(tmp_path, GOOD + '[[searchers]]\nname = "local-search"\n' + variant)).trials()
    by = {(t.label, t.seed): t for t in trials}
    assert by["random-search", 0].benchmark_seed == by["local-search", 0].benchmark_seed
    assert by["random-search", 0].searcher_seed != by["local-search", 0].searcher_seed
    assert by["random-search", 0].searcher_seed == by["rs-low", 0].searcher_seed
    assert by["random-search", 0].key != by["rs-low", 0].key
    assert by["random-search", 0].benchmark_seed != by["random-search", 1].benchmark_seed


@pytest.mark.parametrize(
    "text, message",
    [
        ("name = [", "malformed TOML"),
        ("budgt = 3\n" + GOOD, "unknown key 'budgt' in the suite \\(did you mean 'budgets'\\?\\)"),
        (
            GOOD.replace("evaluations = 10", "evaluations = 0"),
            "budget evaluations must be a finite positive integer, got 0",
        ),
        (GOOD.replace("evaluations = 10", "evaluations = -5"), "must be a finite positive integer, got -5"),
        (GOOD.replace("evaluations = 10", "seconds = 0"), "budget seconds must be a finite positive number"),
        (GOOD.replace("evaluations = 10", "seconds = inf"), "budget seconds must be a finite positive number, got inf"),
        (GOOD.replace("evaluations = 10", "seconds = nan"), "budget seconds must be a finite positive number, got nan"),
        (GOOD.replace("evaluations = 10", "evaluations = 1e9"), "finite positive integer, got 1000000000.0"),
        (GOOD.replace("evaluations = 10", "evaluations = 20000"), "at most 15,625 \\(the cells in the space\\)"),
        (GOOD.replace("[0, 1]", "[-1]"), "seeds must be integers from 0 to 4294967295, got -1"),
        (GOOD.replace("[0, 1]", "[100000000000000000000]"), "seeds must be integers from 0 to 4294967295"),
        ("seed = -3\n" + GOOD, "seed must be integers from 0 to 4294967295, got -3"),
        (GOOD.replace('name = "t"', 'name = "../../etc/x"'), "name must be letters, digits"),
        (GOOD + 'label = ""\n', "label of searcher 'random-search' must be a non-empty string"),
        ("trial_timeout = 0\n" + GOOD, "trial_timeout \\(seconds\\) must be a finite positive number, got 0"),
        ("trial_timeout = inf\n" + GOOD, "trial_timeout \\(seconds\\) must be a finite positive number, got inf"),
        (GOOD.replace("evaluations = 10", "evals = 10"), "unknown key 'evals' in a budget"),
        (GOOD.replace("[0, 1]", '["a", 1]'), "seeds must be integers from 0"),
        (GOOD.replace("[0, 1]", "[0.5]"), "seeds must be integers from 0"),
        (
            GOOD.replace("random-search", "random-serch"),
            "unknown searcher 'random-serch' \\(did you mean 'random-search'\\?\\)",
        ),
        (GOOD.replace('"cifar10"', '"cifar-10"'), "unknown dataset 'cifar-10' .*did you mean 'cifar10'"),
        ('objective = "accuracy"\n' + GOOD, "unknown objective metric 'accuracy'"),
        (GOOD.replace('name = "t"\n', ""), "missing key 'name'"),
        (GOOD + "[live]\nepochs = 3\n", "only applies to live benchmarks"),
    ],
)
def test_bad_suites_give_one_clear_error(tmp_path, text, message):
    with pytest.raises(TnasbenchError, match=message):
        load_suite(write(tmp_path, text))


def test_missing_suite_file(tmp_path):
    with pytest.raises(TnasbenchError, match="no such suite file"):
        load_suite(tmp_path / "none.toml")


def test_a_suite_that_is_not_utf8_or_is_a_folder_is_one_clear_error(tmp_path):
    (tmp_path / "latin1.toml").write_bytes(GOOD.replace('"t"', '"t\xe9"').encode("latin-1"))
    with pytest.raises(TnasbenchError, match="not UTF-8 text .*save the suite as UTF-8"):
        load_suite(tmp_path / "latin1.toml")
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(TnasbenchError, match="is a folder: pass a suite file"):
        load_suite(tmp_path / "folder.toml")


def test_trial_timeout_defaults_to_six_hours_and_is_read(tmp_path):
    assert load_suite(write(tmp_path, GOOD)).trial_timeout == 6 * 3600
    assert load_suite(write(tmp_path, "trial_timeout = 90\n" + GOOD)).trial_timeout == 90.0


@register
class PairedWithATypo(RandomSearch):
    name = "test-paired-with-a-typo"
    seed_stream = "random-serach"


def test_a_seed_stream_naming_no_searcher_fails_when_the_suite_loads(tmp_path):
    text = GOOD + '[[searchers]]\nname = "test-paired-with-a-typo"\n'
    with pytest.raises(TnasbenchError, match="shares the seeds of 'random-serach', which is not registered"):
        load_suite(write(tmp_path, text))
