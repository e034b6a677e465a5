"""The ``tnasbench`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tnasbench.errors import TnasbenchError

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


def _cmd_run(args: argparse.Namespace) -> int:
    from tnasbench.report import build_report
    from tnasbench.runner import run_suite
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    suite = load_suite(args.suite)
    store_path = Path(args.store or f"results/{suite.name}.sqlite")
    store = Store(store_path)
    counts = run_suite(suite, store, jobs=args.jobs, show_progress=not args.quiet, scheduler=args.scheduler)
    store.close()
    print(
        f"{suite.name}: {counts['done']} trials run, {counts['skipped']} already in {store_path}, "
        f"{counts['elsewhere']} held by another runner, "
        f"{counts['failed']} failed"
    )
    if args.report:
        print(f"report: {build_report(store_path, args.report)}")
    return 1 if counts["failed"] else 0


def _cmd_compare(args: argparse.Namespace) -> int:
    import json

    from tnasbench.report import build_report
    from tnasbench.runner import compare_specs, run_specs
    from tnasbench.store import Store

    for module in args.imports:
        _import_plugin(module)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as error:
        raise TnasbenchError(f"--params is not valid JSON ({error}): pass e.g. '{{\"population\": 20}}'") from None
    store = Store(_existing(args.store))
    specs = compare_specs(store, args.searcher, params, args.label)
    counts = run_specs(f"compare {args.searcher}", specs, store, jobs=args.jobs, show_progress=not args.quiet)
    store.close()
    print(
        f"{args.searcher}: {counts['done']} trials run, {counts['skipped']} already stored, {counts['failed']} failed"
    )
    finished = counts["done"] + counts["skipped"]  # the new searcher is the reference once it has results
    print(f"report: {build_report(args.store, args.out, (args.label or args.searcher) if finished else None)}")
    return 1 if counts["failed"] else 0


def _import_plugin(module: str) -> None:
    """Import a module (dotted name or .py file) whose import registers searchers with ``register``."""
    import importlib
    import importlib.util

    try:
        if module.endswith(".py"):
            spec = importlib.util.spec_from_file_location(Path(module).stem, module)
            if spec is None or spec.loader is None or not Path(module).is_file():
                raise FileNotFoundError(module)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        else:
            importlib.import_module(module)
    except Exception as error:
        raise TnasbenchError(f"--import {module} failed: {type(error).__name__}: {error}") from None


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "searchers":
        from tnasbench.searchers import searcher_names

        print("\n".join(searcher_names()))
    elif args.what == "datasets":
        from tnasbench.benchmarks.live import LIVE_DATASETS
        from tnasbench.benchmarks.tables import DATASETS

        print(
            "\n".join(
                [f"nb201: {d}" for d in DATASETS]
                + [f"nb201-live: {d}" for d in LIVE_DATASETS]
                + ["nb201-live: torchvision/<Name> (needs torchvision and the data)"]
            )
        )
    else:
        print(
            "\n".join(
                str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p)
                for p in sorted(SUITES_DIR.glob("*.toml"))
            )
        )
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from tnasbench.benchmarks.importers import data_status, import_source
    from tnasbench.benchmarks.tables import data_home

    if args.action == "import":
        if not args.paths:
            raise TnasbenchError("data import needs at least one PATH (e.g. ../shared/data/nb201/*.csv)")
        for path in args.paths:
            for metric, origin in import_source(path).items():
                print(f"imported {metric} from {origin}")
        return 0
    print(f"tables cached in {data_home() / 'nb201'}")
    for dataset, metric, source in data_status():
        print(f"{dataset:15s} {metric:15s} {source}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from tnasbench.report import build_report

    print(f"report: {build_report(_existing(args.store), args.out, args.reference, args.margin)}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from tnasbench.store import Store
    from tnasbench.verify import verify_store

    store = Store(_existing(args.store))
    problems = verify_store(store)
    done = int((store.progress()["status"] == "done").sum())
    store.close()
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{args.store}: {done} finished trials, " + (f"{len(problems)} problems" if problems else "all sound"))
    return 1 if problems else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from tnasbench.store import Store

    for path in Store(_existing(args.store)).export(args.out, args.format):
        print(f"wrote {path}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from tnasbench.store import Store

    trials = Store(_existing(args.store)).progress()
    if trials.empty:
        print("no trials")
        return 0
    table = trials.groupby(["dataset", "label", "status"]).size().unstack("status", fill_value=0)
    print(table.to_string())
    if (trials["status"] == "interrupted").any():
        print("interrupted: their runner stopped; `tnasbench run` with this store redoes them from their seeds")
    if (trials["status"] == "superseded").any():
        print("superseded: an older run of a trial since re-run by newer code or data; kept, not reported")
    for row in trials[trials["status"] == "failed"].itertuples():
        print(f"failed: {row.label} on {row.dataset} seed {row.seed}: {row.error}")
    return 0


def _existing(path: str) -> Path:
    if not Path(path).is_file():
        raise TnasbenchError(f"{path}: no such store (create one with `tnasbench run SUITE --store {path}`)")
    return Path(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tnasbench", description="NAS benchmark and reproducibility harness.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite's missing trials into a store")
    run.add_argument("suite")
    run.add_argument("--store", help="SQLite store (default results/<suite name>.sqlite)")
    run.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run trials on a Dask cluster, e.g. tcp://host:8786")
    run.add_argument("--report", metavar="DIR", help="write a report to DIR afterwards")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_cmd_run)
    listing = sub.add_parser("list", help="list searchers, datasets or suites")
    listing.add_argument("what", choices=("searchers", "datasets", "suites"))
    listing.set_defaults(func=_cmd_list)
    data = sub.add_parser("data", help="import NB201 tables or show what is present")
    data.add_argument("action", choices=("import", "status"))
    data.add_argument("paths", nargs="*")
    data.set_defaults(func=_cmd_data)
    report = sub.add_parser("report", help="figures and tables from a store")
    report.add_argument("store")
    report.add_argument("--out", default="report", help="output folder (default ./report)")
    report.add_argument("--reference", help="searcher to pair every other one against (default: tnas when stored)")
    report.add_argument("--margin", type=float, metavar="POINTS",
                        help="also test each pair for equivalence within ±POINTS regret (TOST), e.g. 0.25")  # fmt: skip
    report.set_defaults(func=_cmd_report)
    compare = sub.add_parser("compare", help="run a new searcher on every stored benchmark/seed, then report")
    compare.add_argument("store")
    compare.add_argument("--searcher", required=True, help="registered name of the searcher to add")
    compare.add_argument("--params", default="{}", help="its hyper-parameters as JSON")
    compare.add_argument("--label", help="name in the reports (default: the searcher name)")
    compare.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                         help="module or .py file that registers the searcher (repeatable)")  # fmt: skip
    compare.add_argument("--jobs", type=int, default=1)
    compare.add_argument("--out", default="report", help="report folder (default ./report)")
    compare.add_argument("--quiet", action="store_true")
    compare.set_defaults(func=_cmd_compare)
    verify = sub.add_parser("verify", help="check a store's integrity and that its data still match")
    verify.add_argument("store")
    verify.set_defaults(func=_cmd_verify)
    export = sub.add_parser("export", help="write the store as parquet or CSV")
    export.add_argument("store")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    export.add_argument("--out", default="export")
    export.set_defaults(func=_cmd_export)
    status = sub.add_parser("status", help="trials per dataset and searcher: done / failed / running")
    status.add_argument("store")
    status.set_defaults(func=_cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # small GP fits and CPU training are slower on contended threads
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TnasbenchError as error:
        print(f"tnasbench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tnasbench: interrupted; finished trials are kept, run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
