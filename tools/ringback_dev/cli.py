"""The ``ringback-dev`` command: what a developer runs on a laptop, never production.

ringback-dev demo [--days N] [--seed S]          make demo: simulators + Airflow + DuckDB
ringback-dev simulators serve [--port P=N]...   the provider simulators on 127.0.0.1
ringback-dev dags test --start D --end D         the DAGs in this process (dag.test)
ringback-dev check-report FILE [--screenshot P]  open a report in headless Chromium
ringback-dev bench --calls N                     the benchmark (make bench)
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ringback.cli import UsageError, _check_range, _date, _Parser
from ringback.settings import ConfigError


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulators + Airflow + DuckDB: the last N days end to end, then the summary."""
    from ringback_dev.demo import run_demo

    return run_demo(days=args.days, seed=args.seed)


def cmd_simulators(args: argparse.Namespace) -> int:
    """Serve the provider simulators on 127.0.0.1 until interrupted."""
    from ringback_dev.simulators import start_all

    sims = start_all(seed=args.seed, ports=args.port)
    for name, sim in sims.items():
        print(f"{name}: {sim.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for sim in sims.values():
            sim.stop()
    return 0


def cmd_dags_test(args: argparse.Namespace) -> int:
    """Run the ingestion DAGs for each day of --start..--end, then the marts DAG, in this
    process (Airflow's dag.test); the connections must already point somewhere."""
    from ringback_dev import local_runs

    _check_range(args)
    days = [args.start + dt.timedelta(days=n) for n in range((args.end - args.start).days + 1)]
    try:
        local_runs.run_days(days, args.source or None, marts=not args.no_marts)
    except local_runs.DagRunFailed as exc:
        print(f"ringback-dev: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_check_report(args: argparse.Namespace) -> int:
    """Open an HTML report in headless Chromium; fail unless every chart renders."""
    from ringback_dev import browser

    html = Path(args.file)
    check = browser.check_rendered(html)
    print(f"chromium: {check.rendered} of {check.expected} charts rendered {check.bars_drawn}")
    if args.screenshot:
        print(f"screenshot: {browser.screenshot(html, Path(args.screenshot)).resolve()}")
    return 0 if check.ok else 1


def cmd_bench(args: argparse.Namespace) -> int:
    """The benchmark: figures to bench/results.md (make bench)."""
    from ringback_dev import bench

    return bench.main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ringback-dev", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help=cmd_demo.__doc__)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)

    sim_p = sub.add_parser("simulators", help="local provider API simulators")
    sim_sub = sim_p.add_subparsers(dest="simulators_command", required=True)
    p = sim_sub.add_parser("serve", help=cmd_simulators.__doc__)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="PROVIDER=PORT",
        help="fixed port per provider, e.g. ringostat=8081 (default: free ports)",
    )
    p.set_defaults(func=cmd_simulators)

    dags_p = sub.add_parser("dags", help="run the Airflow DAGs in this process")
    dags_sub = dags_p.add_subparsers(dest="dags_command", required=True)
    p = dags_sub.add_parser("test", help=cmd_dags_test.__doc__)
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--source", action="append", metavar="ID", help="only this source (repeatable)")
    p.add_argument("--no-marts", action="store_true", help="skip the marts DAG")
    p.set_defaults(func=cmd_dags_test)

    p = sub.add_parser("check-report", help=cmd_check_report.__doc__)
    p.add_argument("file", help="the report's HTML file")
    p.add_argument("--screenshot", metavar="PNG", help="save a full-page PNG")
    p.set_defaults(func=cmd_check_report)

    p = sub.add_parser("bench", help=cmd_bench.__doc__, add_help=False)
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # The benchmark parses its own options: argparse's REMAINDER does not take options
        # that come first (`bench --calls N` failed with "unrecognized arguments").
        from ringback_dev import bench

        return bench.main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "great_expectations", "sqlglot", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except (ConfigError, UsageError) as exc:
        print(f"ringback-dev: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
