"""The ``tnasbench`` command line.

Every input is checked before anything is written (argument types in ``tnasbench.arguments``, then
the suite, the store, the searcher); an input error is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

from tnasbench import __version__, arguments
from tnasbench.errors import TnasbenchError

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"
SHOWN_FAILURES = 5


def _cmd_run(args: argparse.Namespace) -> int:
    from tnasbench.runner import resolve
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    suites = [load_suite(path) for path in args.suite]  # every file is checked before anything runs
    store_path = Path(args.store or f"results/{suites[0].name}.sqlite")
    specs = list({spec.key: spec for suite in suites for spec in map(resolve, suite.trials())}.values())
    timeout = args.trial_timeout or max(suite.trial_timeout for suite in suites)
    if args.dry_run:
        from tnasbench.plan import open_for_plan, plan, plan_lines
        from tnasbench.runner import check_labels

        store = open_for_plan(store_path)  # refused as a run would refuse it; None where a run would create it
        if store is not None:
            check_labels(store, specs)
        title = " + ".join(suite.name for suite in suites)
        print("\n".join(plan_lines(title, plan(specs, store), store_path, args.jobs)))
        if store is not None:
            store.close()
        return 0
    code = _run(" + ".join(suite.name for suite in suites), specs, Store(store_path), args, timeout)
    if args.report:
        from tnasbench.report import build_report

        print(_opened(build_report(store_path, args.report)))
    return code


def _cmd_tabulate(args: argparse.Namespace) -> int:
    from tnasbench.runner import resolve
    from tnasbench.store import Store
    from tnasbench.suite import load_suite
    from tnasbench.tabulate import check_recipe, export_tables

    recipe = load_suite(args.recipe)
    check_recipe(recipe)
    store_path = Path(args.store or f"results/{recipe.name}.sqlite")
    specs = [resolve(spec) for spec in recipe.trials()]
    code = _run(recipe.name, specs, Store(store_path), args, args.trial_timeout or recipe.trial_timeout)
    if code == 0:
        for path in export_tables(Store(store_path, readonly=True), specs, Path(args.out)):
            print(f"table: {path}")
    return code


def _opened(markdown: Path) -> str:
    """The line that says where a written report is: the page to open, and its Markdown twin."""
    return f"report: {markdown.with_name('index.html')} (open it in a browser; Markdown: {markdown})"


def _run(title: str, specs: list, store, args: argparse.Namespace, timeout: float) -> int:
    """Run ``specs`` into ``store`` and say what happened; non-zero when work is left undone."""
    from tnasbench.benchmarks.tables import data_home
    from tnasbench.runner import run_specs, superseding

    if reruns := superseding(store, specs):
        print(
            f"note: {reruns} trials re-run because their code or data changed since their stored runs (tables "
            f"from {data_home()}); the older runs are kept as superseded",
            file=sys.stderr,
        )
    counts = run_specs(title, specs, store, args.jobs, not args.quiet, getattr(args, "scheduler", None), timeout)
    print(
        f"{title}: {counts['done']} trials run, {counts['skipped']} already in {store.path}, "
        f"{counts['elsewhere']} held by another runner, {counts['failed']} failed"
    )
    trials = store.progress()
    trials = trials[trials["key"].isin({spec.key for spec in specs})]
    failed = trials[trials["status"] == "failed"]
    for row in failed.head(SHOWN_FAILURES).itertuples():
        print(f"failed: {row.label} on {row.dataset} seed {row.seed}: {row.error}", file=sys.stderr)
    if len(failed) > SHOWN_FAILURES:
        print(f"... and {len(failed) - SHOWN_FAILURES} more: `tnasbench status {store.path}` lists them all")
    held = int(trials["status"].isin(["running", "interrupted"]).sum())  # others' claims not finished yet
    if held:
        print(
            f"{held} trials are held by another runner of {store.path}, unfinished: run the same command again "
            "once it is done, or after its lease lapses (5 minutes after it stops)",
            file=sys.stderr,
        )
    store.close()
    return 1 if len(failed) or held else 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from tnasbench.report import build_report
    from tnasbench.runner import compare_specs
    from tnasbench.store import Store
    from tnasbench.suite import DEFAULT_TRIAL_TIMEOUT

    for module in args.imports:
        _import_plugin(module)
    Store(args.store, readonly=True).close()  # a tnasbench store, checked before anything writes to it
    store = Store(args.store)
    specs = compare_specs(store, args.searcher, args.params, args.label)
    code = _run(f"compare {args.searcher}", specs, store, args, args.trial_timeout or DEFAULT_TRIAL_TIMEOUT)
    stored = Store(args.store, readonly=True)
    finished = stored.statuses()
    stored.close()
    reference = (args.label or args.searcher) if any(finished.get(s.key) == "done" for s in specs) else None
    print(_opened(build_report(args.store, args.out, reference)))  # the new searcher is the reference
    return code


def _import_plugin(module: str) -> None:
    """Import a module (dotted name, or a .py file) whose import registers searchers with ``register``.

    Its folder (the current one for a dotted name) goes on ``sys.path``, so that pool workers, which
    inherit the path, import it by name too.
    """
    import importlib

    folder, name = (Path(module).resolve().parent, Path(module).stem) if module.endswith(".py") else (Path(), module)
    if module.endswith(".py") and not Path(module).is_file():
        raise TnasbenchError(f"--import {module}: no such file")
    if str(folder.resolve()) not in sys.path:
        sys.path.insert(0, str(folder.resolve()))
    try:
        importlib.import_module(name)
    except Exception as error:
        raise TnasbenchError(f"--import {module} failed: {type(error).__name__}: {error}") from None


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "searchers":
        from tnasbench.searchers import searcher_names

        print("\n".join(searcher_names()))
    elif args.what == "datasets":
        from tnasbench.benchmarks.kinds import benchmark_kind, benchmark_names

        for name in benchmark_names():
            kind = benchmark_kind(name)
            print("\n".join(f"{name}: {d}" for d in kind.datasets))
            for prefix in kind.open_ended:
                print(f"{name}: {prefix}<...> (needs the data; see README)")
    elif args.what == "benchmarks":
        from tnasbench.benchmarks.kinds import benchmark_kind, benchmark_names

        for name in benchmark_names():
            kind = benchmark_kind(name)
            print(f"{name:18s} space {kind.space:18s} {len(kind.datasets)} datasets  {kind.description}")
    elif args.what == "spaces":
        from tnasbench.space import get_space, space_names

        for name in space_names():
            try:
                print(f"{name:18s} {get_space(name).describe()}")
            except TnasbenchError as error:  # one unavailable space does not hide the others
                print(f"{name:18s} unavailable: {error}")
    else:
        print(
            "\n".join(
                str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p)
                for p in sorted(SUITES_DIR.glob("*.toml"))
            )
        )
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from tnasbench.benchmarks.importers import data_status, import_sources
    from tnasbench.benchmarks.tables import data_home

    if args.action == "import":
        if not args.paths:
            raise TnasbenchError("data import needs at least one PATH (e.g. ../shared/data/nb201/*.csv)")
        for metric, origin in import_sources(args.paths).items():
            print(f"imported {metric} from {origin}")
        return 0
    if args.paths:
        raise TnasbenchError("data status takes no PATH: run `tnasbench data status`")
    print(f"tables cached in {data_home()}")
    for benchmark, dataset, metric, source in data_status():
        print(f"{benchmark:18s} {dataset:16s} {metric:15s} {source}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from tnasbench.report import build_report
    from tnasbench.store import Store

    for path in args.store:  # each must be a store before anything is read
        Store(path, readonly=True).close()
    print(_opened(build_report(list(args.store), args.out, args.reference, args.margin)))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from tnasbench.store import Store
    from tnasbench.verify import repair_store, replay_trials, verify_store

    if args.label and not args.replay:
        raise TnasbenchError("--label chooses which trials --replay runs again: add --replay N (e.g. --replay 1)")
    Store(args.store, readonly=True).close()
    store = Store(args.store, readonly=not args.repair)
    if args.repair:
        redone, left = repair_store(store)
        print(f"repair: {redone} trials with incomplete observations redone" + (f", {left} not" if left else ""))
    problems = verify_store(store)
    replays = replay_trials(store, args.replay, set(args.label), show_progress=True) if args.replay else []
    statuses = store.progress()["status"]
    done, stale = int((statuses == "done").sum()), int((statuses == "stale").sum())
    store.close()
    for problem in problems:
        print(f"problem: {problem}")
    for replay in replays:
        print(replay.line())
    if stale:
        print(f"stale: {stale} trials ran on older data of their dataset; `tnasbench run` redoes them on this data")
    differ = sum(r.same is False for r in replays)
    replayed = f", {sum(r.same is True for r in replays)} of {len(replays)} replays the same" if replays else ""
    found = f"{len(problems)} problems" if problems else "all sound"
    print(f"{args.store}: {done} finished trials, {found}{replayed}")
    return 1 if problems or differ else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from tnasbench.store import Store

    for path in Store(args.store, readonly=True).export(args.out, args.format):
        print(f"wrote {path}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from tnasbench.store import Store

    trials = Store(args.store, readonly=True).progress()
    if trials.empty:
        print("no trials")
        return 0
    table = trials.groupby(["dataset", "label", "status"]).size().unstack("status", fill_value=0)
    print(table.to_string())
    if (trials["status"] == "interrupted").any():
        print("interrupted: their runner stopped; `tnasbench run` with this store redoes them from their seeds")
    if (trials["status"] == "superseded").any():
        print("superseded: an older run of a trial since re-run by newer code or data; kept, not reported")
    if (trials["status"] == "stale").any():
        print("stale: run on older data of its dataset than its latest trials; `tnasbench run` redoes it on this data")
    for row in trials[trials["status"] == "failed"].itertuples():
        print(f"failed: {row.label} on {row.dataset} seed {row.seed}: {row.error}")
    return 0


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming the problem and where help is."""

    def error(self, message: str) -> NoReturn:
        print(f"tnasbench: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tnasbench", description="NAS benchmark and reproducibility harness.")
    parser.add_argument("--version", action="version", version=f"tnasbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    store_help = "a tnasbench store (.sqlite file)"
    timeout_help = "fail a trial that runs longer than SECONDS of wall clock (default: the suite's trial_timeout, 6 h)"
    run = sub.add_parser("run", help="run the missing trials of one or more suites into a store")
    run.add_argument("suite", nargs="+", help="suite files (TOML), e.g. suites/quickstart.toml")
    run.add_argument("--store", help="SQLite store (default results/<first suite's name>.sqlite)")
    run.add_argument("--jobs", type=arguments.jobs, default=1, help="worker processes, at most the CPUs (default 1)")
    run.add_argument("--scheduler", type=arguments.scheduler, metavar="ADDRESS",
                     help="run trials on a Dask cluster, e.g. tcp://host:8786")  # fmt: skip
    run.add_argument("--trial-timeout", type=arguments.seconds, metavar="SECONDS", help=timeout_help)
    run.add_argument("--report", type=arguments.folder, metavar="DIR", help="write a report to DIR afterwards")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    dry_help = "say what would run and its estimated cost (from the store's finished trials), then stop"
    run.add_argument("--dry-run", action="store_true", help=dry_help)
    run.set_defaults(func=_cmd_run)
    tabulate = sub.add_parser("tabulate", help="train a seeded sample of cells on live datasets and export the tables")
    tabulate.add_argument("recipe", help="a tabulate recipe (a suite file), e.g. suites/tabulate-images.toml")
    tabulate.add_argument("--out", type=arguments.folder, default="tables", help="folder of <dataset>.npz (./tables)")
    tabulate.add_argument("--store", help="SQLite store of the trainings (default results/<recipe name>.sqlite)")
    tabulate.add_argument("--jobs", type=arguments.jobs, default=1, help="worker processes, a dataset each (default 1)")
    tabulate.add_argument("--scheduler", type=arguments.scheduler, metavar="ADDRESS",
                          help="train on a Dask cluster, e.g. tcp://host:8786")  # fmt: skip
    tabulate.add_argument("--trial-timeout", type=arguments.seconds, metavar="SECONDS", help=timeout_help)
    tabulate.add_argument("--quiet", action="store_true", help="no progress bar")
    tabulate.set_defaults(func=_cmd_tabulate)
    listing = sub.add_parser("list", help="list searchers, spaces, benchmarks, datasets or suites")
    listing.add_argument(
        "what", choices=("searchers", "spaces", "benchmarks", "datasets", "suites"), help="what to list"
    )
    listing.set_defaults(func=_cmd_list)
    data = sub.add_parser("data", help="import tables (NB201, TransNAS-Bench-101) or show what is present and missing")
    data.add_argument("action", choices=("import", "status"), help="import PATHs into the cache, or show it")
    data.add_argument("paths", nargs="*", type=arguments.existing_path, metavar="PATH",
                      help="NB201 CSV, NASLib pickle, NATS-Bench tss, or all_benchmarks_zen.zip")  # fmt: skip
    data.set_defaults(func=_cmd_data)
    report = sub.add_parser("report", help="figures and tables from a store (or several, pooled across spaces)")
    report.add_argument("store", nargs="+", type=arguments.store, help="one or more tnasbench stores (.sqlite)")
    report.add_argument("--out", type=arguments.folder, default="report", help="output folder (default ./report)")
    report.add_argument("--reference", help="searcher to pair every other one against (default: tnas when stored)")
    report.add_argument("--margin", type=arguments.points, metavar="POINTS",
                        help="also test each pair for equivalence within ±POINTS regret (TOST) and for being "
                             "not worse by POINTS (non-inferiority), e.g. 0.25")  # fmt: skip
    report.set_defaults(func=_cmd_report)
    compare = sub.add_parser("compare", help="run a new searcher on every stored benchmark/seed, then report")
    compare.add_argument("store", type=arguments.store, help=store_help)
    compare.add_argument("--searcher", required=True, help="registered name of the searcher to add")
    compare.add_argument("--params", type=arguments.json_object, default={}, help="its hyper-parameters as JSON")
    compare.add_argument("--label", type=arguments.label, help="name in the reports (default: the searcher name)")
    compare.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                         help="module (from the current folder) or .py file that registers the searcher")  # fmt: skip
    compare.add_argument("--jobs", type=arguments.jobs, default=1, help="worker processes (default 1)")
    compare.add_argument("--trial-timeout", type=arguments.seconds, metavar="SECONDS", help=timeout_help)
    compare.add_argument("--out", type=arguments.folder, default="report", help="report folder (default ./report)")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    compare.set_defaults(func=_cmd_compare)
    verify = sub.add_parser("verify", help="check a store's integrity and that its data still match")
    verify.add_argument("store", type=arguments.store, help=store_help)
    verify.add_argument("--repair", action="store_true", help="first redo finished trials with missing observations")
    verify.add_argument(
        "--replay",
        type=arguments.count,
        default=0,
        metavar="N",
        help="also run the first N trials of each label again from their seeds and compare every evaluation",
    )
    verify.add_argument(
        "--label", type=arguments.label, action="append", default=[], help="replay only this label (repeatable)"
    )
    verify.set_defaults(func=_cmd_verify)
    export = sub.add_parser("export", help="write the store as parquet or CSV")
    export.add_argument("store", type=arguments.store, help=store_help)
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default parquet)")
    export.add_argument("--out", type=arguments.folder, default="export", help="output folder (default ./export)")
    export.set_defaults(func=_cmd_export)
    status = sub.add_parser("status", help="trials per dataset and searcher: done, failed, running, superseded, stale")
    status.add_argument("store", type=arguments.store, help=store_help)
    status.set_defaults(func=_cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # small GP fits and CPU training are slower on contended threads
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SystemExit as exit:  # the parser's one-line errors, --help and --version
        return exit.code if isinstance(exit.code, int) else 2
    except TnasbenchError as error:
        return _error(str(error))
    except KeyboardInterrupt:
        print("tnasbench: interrupted; finished trials are kept, run the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tnasbench data status | head -3`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:
        if _is_database_error(error):
            return _error(f"the store is damaged ({error}): restore it from a copy; `tnasbench verify` shows what")
        if isinstance(error, OSError):
            return _error(f"{error}: check the path and its permissions")
        raise


def _error(message: str) -> int:
    print(f"tnasbench: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _is_database_error(error: Exception) -> bool:
    import pandas as pd

    return isinstance(error, (sqlite3.DatabaseError, pd.errors.DatabaseError))


if __name__ == "__main__":
    sys.exit(main())
