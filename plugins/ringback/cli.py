"""The ``ringback`` command.

Public contract (design.md §5, kept exactly):
  ringback init --warehouse URL
  ringback models run --warehouse URL --start YYYY-MM-DD --end YYYY-MM-DD [--business ID]...
  ringback extract --source ID --date YYYY-MM-DD --warehouse URL
Project commands: ``models render``, ``summary``, ``report``, ``export``, ``dags test``,
``simulators serve``, ``demo``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence

from ringback.settings import ConfigError, load_settings, parse_overrides

log = logging.getLogger("ringback")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _settings(args: argparse.Namespace):
    overrides = parse_overrides(getattr(args, "set", None))
    if getattr(args, "warehouse", None):
        overrides["warehouse_url"] = args.warehouse
    return load_settings(overrides)


def cmd_init(args: argparse.Namespace) -> int:
    """Create every schema and table that is missing, upgrade tables from before businesses,
    and (BigQuery) apply the businesses' row access policies (idempotent)."""
    from ringback.warehouse.base import connect

    settings = _settings(args)
    with connect(settings.warehouse_url, settings=settings) as wh:
        created = wh.init()
        policies = wh.apply_row_access()
    print(
        f"{settings.warehouse_url}: created {len(created)} "
        f"({', '.join(created) if created else 'nothing to do'})"
    )
    if policies:
        print(f"row access: {len(policies)} statements (businesses' viewers)")
    return 0


def cmd_models_run(args: argparse.Namespace) -> int:
    """Build the models for --start..--end (plus the rebuild lookback) from staging.calls."""
    from ringback import models
    from ringback.warehouse.base import connect

    settings = _settings(args)
    with connect(settings.warehouse_url) as wh:
        wh.init()
        results = models.run_models(
            wh,
            settings,
            args.start,
            args.end,
            full_refresh=args.full_refresh,
            businesses=args.business,
        )
    window = models.RebuildWindow.for_run(args.start, args.end, settings)
    which = f" (businesses {', '.join(args.business)})" if args.business else ""
    print(f"built {len(results)} models for {window.start}..{window.end}{which}:")
    for r in results:
        print(f"  {r.ref:32} {r.rows:>9} rows {r.seconds:>7.2f} s")
    return 0


def cmd_models_render(args: argparse.Namespace) -> int:
    """Print a model's SQL for BigQuery (as written) or DuckDB (transpiled)."""
    from ringback import catalog, models
    from ringback.warehouse.duckdb import to_duckdb_sql

    sql = models.render(catalog.table(args.model), _settings(args))
    print(to_duckdb_sql(sql)[0] if args.dialect == "duckdb" else sql)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    """Pull one day (plus the re-pull window) from a source, validate it, load raw and staging."""
    from ringback import ingest

    settings = _settings(args)
    manifest = ingest.run_extract(
        args.source, args.date, settings.warehouse_url, settings, deep=args.deep
    )
    print(
        f"{manifest.load_id}: received {manifest.received_records}, staged "
        f"{manifest.staged_records}, quarantined {manifest.quarantined_records} "
        f"{manifest.quarantine_reasons or ''} in {manifest.requests} requests"
    )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print what marketers and engineers want to know about a date range."""
    from ringback.summary import print_summary

    settings = _settings(args)
    print_summary(settings.warehouse_url, args.start, args.end)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write a self-contained HTML report with charts for --start..--end."""
    from pathlib import Path

    from ringback import report
    from ringback.settings import project_root

    settings = _settings(args)
    from ringback.settings import load_config

    out = Path(args.out) if args.out else report.default_path(project_root(), args.start, args.end)
    names = {b.id: b.name for b in load_config(settings).businesses}
    report.write_report(
        settings.warehouse_url, args.start, args.end, out, businesses=args.business, names=names
    )
    print(f"report: {out.resolve()}")
    if args.check:
        check = report.check_rendered(out)
        print(f"chromium: {check.rendered} of {check.expected} charts rendered {check.bars_drawn}")
        if not check.ok:
            return 1
    if args.screenshot:
        print(f"screenshot: {report.screenshot(out, Path(args.screenshot)).resolve()}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Send the recovered leads of --start..--end to GA4 / write the Google Ads file (each only
    when enabled in the settings); never sends a lead twice."""
    from ringback import export

    settings = _settings(args)
    results = export.run_export(
        settings,
        args.start,
        args.end,
        args.destination or export.DESTINATIONS,
        retry_unknown=args.retry_unknown,
    )
    for result in results:
        print(result.line())
    return 1 if any(r.counts.get("failed") for r in results) else 0


def cmd_simulators(args: argparse.Namespace) -> int:
    """Serve the provider simulators on 127.0.0.1 until interrupted."""
    import time

    from ringback.simulators import start_all

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
    from ringback import local_runs

    if args.end < args.start:
        raise ConfigError(f"--end {args.end} is before --start {args.start}")
    days = [args.start + dt.timedelta(days=n) for n in range((args.end - args.start).days + 1)]
    try:
        local_runs.run_days(days, args.source or None, marts=not args.no_marts)
    except local_runs.DagRunFailed as exc:
        print(f"ringback: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulators + Airflow + DuckDB: the last N days end to end, then the summary."""
    from ringback.demo import run_demo

    return run_demo(days=args.days, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ringback", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, warehouse_required: bool = False) -> None:
        p.add_argument(
            "--warehouse",
            required=warehouse_required,
            metavar="URL",
            help="duckdb:///path/file.duckdb or bigquery://project?location=EU "
            "(default: warehouse_url setting)",
        )
        p.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override a setting for this run (repeatable)",
        )

    p = sub.add_parser("init", help=cmd_init.__doc__)
    common(p)
    p.set_defaults(func=cmd_init)

    models_p = sub.add_parser("models", help="build or show the SQL models")
    models_sub = models_p.add_subparsers(dest="models_command", required=True)
    p = models_sub.add_parser("run", help=cmd_models_run.__doc__)
    common(p)
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="empty every model table first (after a rule change)",
    )
    p.add_argument(
        "--business",
        action="append",
        metavar="ID",
        help="rebuild only this business (repeatable; default: every business)",
    )
    p.set_defaults(func=cmd_models_run)
    p = models_sub.add_parser("render", help=cmd_models_render.__doc__)
    common(p)
    p.add_argument("--model", required=True, help="layer.name, e.g. marts.attributed_leads")
    p.add_argument("--dialect", choices=("bigquery", "duckdb"), default="bigquery")
    p.set_defaults(func=cmd_models_render)

    p = sub.add_parser("extract", help=cmd_extract.__doc__)
    common(p)
    p.add_argument("--source", required=True, help="source id from the sources file")
    p.add_argument("--date", type=_date, required=True, help="the run date (YYYY-MM-DD)")
    p.add_argument(
        "--deep",
        action="store_true",
        help="pull deep_repull_days back instead of repull_days (the weekly deep re-pull)",
    )
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("summary", help=cmd_summary.__doc__)
    common(p)
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("report", help=cmd_report.__doc__)
    common(p)
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--out", metavar="FILE", help="default data/reports/ringback-report_S_E.html")
    p.add_argument(
        "--business",
        action="append",
        metavar="ID",
        help="only this business (repeatable; default: a section per business with data)",
    )
    p.add_argument(
        "--check", action="store_true", help="open it in headless Chromium; fail unless it renders"
    )
    p.add_argument("--screenshot", metavar="PNG", help="save a full-page PNG (headless Chromium)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("export", help=cmd_export.__doc__)
    common(p)
    p.add_argument("--start", type=_date, required=True, help="first lead_date")
    p.add_argument("--end", type=_date, required=True, help="last lead_date")
    p.add_argument(
        "--destination", action="append", choices=("ga4", "google_ads"), help="default: both"
    )
    p.add_argument(
        "--retry-unknown",
        action="store_true",
        help="also resend leads whose earlier request got no answer (may double-count in GA4)",
    )
    p.set_defaults(func=cmd_export)

    dags_p = sub.add_parser("dags", help="run the Airflow DAGs in this process")
    dags_sub = dags_p.add_subparsers(dest="dags_command", required=True)
    p = dags_sub.add_parser("test", help=cmd_dags_test.__doc__)
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--source", action="append", metavar="ID", help="only this source (repeatable)")
    p.add_argument("--no-marts", action="store_true", help="skip the marts DAG")
    p.set_defaults(func=cmd_dags_test)

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

    p = sub.add_parser("demo", help=cmd_demo.__doc__)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "great_expectations", "sqlglot", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"ringback: configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from ringback.export import ExportError
        from ringback.ingest import ValidationFailed
        from ringback.sources.transport import ProviderError
        from ringback.warehouse.base import WarehouseError

        if isinstance(exc, ValidationFailed | ProviderError | WarehouseError | ExportError):
            print(f"ringback: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
