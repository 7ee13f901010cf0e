"""The ``ringback`` command.

Public contract (outside tools rely on it; kept exactly):
  ringback init --warehouse URL
  ringback models run --warehouse URL --start YYYY-MM-DD --end YYYY-MM-DD [--business ID]...
  ringback extract --source ID --date YYYY-MM-DD --warehouse URL
Project commands: ``models render``, ``summary``, ``report``, ``export``, ``docs``. Development
commands (``demo``, ``simulators serve``, ``dags test``, ``bench``) are ``ringback-dev``, in
``tools/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from ringback.runtime import Runtime
from ringback.settings import ConfigError, parse_overrides

log = logging.getLogger("ringback")


class UsageError(ValueError):
    """A command given arguments that cannot work together."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _runtime(args: argparse.Namespace) -> Runtime:
    """The command's one runtime: settings files, environment, then --warehouse and --set."""
    overrides = parse_overrides(getattr(args, "set", None))
    if getattr(args, "warehouse", None):
        overrides["warehouse_url"] = args.warehouse
    return Runtime.load(overrides)


def _check_range(args: argparse.Namespace) -> None:
    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")


def cmd_init(args: argparse.Namespace) -> int:
    """Create every schema and table that is missing, upgrade tables from before businesses,
    and (BigQuery) apply the businesses' row access policies (idempotent)."""
    runtime = _runtime(args)
    with runtime.connect() as wh:
        created = wh.init()
        policies = wh.apply_row_access(runtime.config.businesses)
    print(
        f"{runtime.settings.warehouse_url}: created {len(created)} "
        f"({', '.join(created) if created else 'nothing to do'})"
    )
    if policies:
        print(f"row access: {len(policies)} statements (businesses' viewers)")
    return 0


def cmd_models_run(args: argparse.Namespace) -> int:
    """Build the models for --start..--end (plus the rebuild lookback) from staging.calls."""
    from ringback import models

    _check_range(args)
    runtime = _runtime(args)
    with runtime.connect() as wh:
        wh.init()
        results = models.run_models(
            wh,
            runtime,
            args.start,
            args.end,
            full_refresh=args.full_refresh,
            businesses=args.business,
        )
    window = models.RebuildWindow.for_run(args.start, args.end, runtime.settings)
    which = f" (businesses {', '.join(args.business)})" if args.business else ""
    print(f"built {len(results)} models for {window.start}..{window.end}{which}:")
    for r in results:
        print(
            f"  {r.ref:32} {r.rows:>9} rows {r.seconds:>7.2f} s "
            f"{r.high_water_mb:>8,.0f} MB high-water"
        )
    return 0


def cmd_models_render(args: argparse.Namespace) -> int:
    """Print a model's SQL for BigQuery (as written) or DuckDB (transpiled)."""
    from ringback import catalog, models
    from ringback.warehouse.duckdb import to_duckdb_sql

    sql = models.render(catalog.table(args.model), _runtime(args).settings)
    print(to_duckdb_sql(sql)[0] if args.dialect == "duckdb" else sql)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    """Pull one day (plus the re-pull window) from a source, validate it, load raw and staging."""
    from ringback import ingest

    manifest = ingest.run_extract(_runtime(args), args.source, args.date, deep=args.deep)
    print(
        f"{manifest.load_id}: received {manifest.received_records}, staged "
        f"{manifest.staged_records}, quarantined {manifest.quarantined_records} "
        f"{manifest.quarantine_reasons or ''} in {manifest.requests} requests"
    )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print what marketers and engineers want to know about a date range."""
    from ringback.summary import print_summary

    _check_range(args)
    print_summary(_runtime(args), args.start, args.end)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Leads and recovered leads for every talk threshold and recovery window, and missed calls
    for every short-abandon threshold (one query over staging, written nowhere); the business's
    own settings are starred."""
    from ringback import sensitivity

    _check_range(args)
    talks = sensitivity.parse_list(args.talk, "--talk", minimum=0)
    windows = sensitivity.parse_list(args.window, "--window", minimum=1 / 60)
    abandons = sensitivity.parse_list(args.short_abandon, "--short-abandon", minimum=0)
    with _runtime(args).connect() as wh:
        grids = sensitivity.compute(
            wh, args.start, args.end, talks, windows, args.business, abandons
        )
    sensitivity.print_grids(grids, args.start, args.end)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write a self-contained HTML report with charts for --start..--end."""
    from pathlib import Path

    from ringback import report
    from ringback.settings import project_root

    _check_range(args)
    runtime = _runtime(args)
    out = Path(args.out) if args.out else report.default_path(project_root(), args.start, args.end)
    report.write_report(runtime, args.start, args.end, out, businesses=args.business)
    print(f"report: {out.resolve()}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Send the recovered leads of --start..--end to GA4 / write the Google Ads file (each only
    when enabled in the settings); never sends a lead twice."""
    from ringback import export

    _check_range(args)
    results = export.run_export(
        _runtime(args),
        args.start,
        args.end,
        args.destination or export.DESTINATIONS,
        retry_unknown=args.retry_unknown,
    )
    for result in results:
        print(result.line())
    return 1 if any(r.counts.get("failed") for r in results) else 0


def cmd_docs(args: argparse.Namespace) -> int:
    """Rebuild the Great Expectations Data Docs of the load validations, after dropping stored
    results older than validation_results_retention_days."""
    from ringback import quality

    settings = _runtime(args).settings
    removed = quality.prune_validation_results(settings.validation_results_retention_days)
    index = quality.build_data_docs()
    print(f"Data Docs: {index} ({removed} stored results past the retention removed)")
    return 0


def _grid_axes(p: argparse.ArgumentParser) -> None:
    """The sensitivity grid's axes: talk thresholds, recovery windows, short-abandon times."""
    p.add_argument(
        "--talk",
        default="30,45,60",
        metavar="S,S,...",
        help="talk thresholds in seconds (a conversation has more; default 30,45,60)",
    )
    p.add_argument(
        "--window",
        default="12,24,48",
        metavar="H,H,...",
        help="recovery windows in hours (default 12,24,48)",
    )
    p.add_argument(
        "--short-abandon",
        default="0,5,10,15",
        metavar="S,S,...",
        help="short-abandon thresholds in seconds of ringing (default 0,5,10,15)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ringback", description=__doc__.split("\n")[0])
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

    p = sub.add_parser("sensitivity", help=cmd_sensitivity.__doc__)
    common(p)
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument(
        "--business", action="append", metavar="ID", help="only this business (repeatable)"
    )
    _grid_axes(p)
    p.set_defaults(func=cmd_sensitivity)

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
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("docs", help=cmd_docs.__doc__)
    common(p)
    p.set_defaults(func=cmd_docs)

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

    return parser


class _Parser(argparse.ArgumentParser):
    """argparse that ends a misuse in one line (not the whole usage) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Misuse and anything the operator must fix end in one line on stderr
    and a non-zero exit (2: usage or configuration, 1: the run failed), never a traceback;
    -v shows the traceback of an unexpected error."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "great_expectations", "sqlglot", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except (ConfigError, UsageError) as exc:
        print(f"ringback: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ringback: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        from ringback.audits import ValidationFailed
        from ringback.export import ExportError
        from ringback.sources.transport import ProviderError
        from ringback.warehouse.base import WarehouseError

        if isinstance(exc, ValidationFailed | ProviderError | WarehouseError | ExportError):
            print(f"ringback: {_one_line(exc)}", file=sys.stderr)
        else:
            print(
                f"ringback: unexpected {type(exc).__name__}: {_one_line(exc)} "
                "(run with -v for the traceback)",
                file=sys.stderr,
            )
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
