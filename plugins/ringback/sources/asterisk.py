"""Asterisk CDRs (FreePBX, Issabel, plain Asterisk). docs/providers.md, "Asterisk".

Two ways in, one mapping:

* ``asterisk_csv`` reads the ``Master.csv`` files of cdr_csv from a drop folder (option
  ``folder``): no header, the column order of ``CSV_COLUMNS``, then ``uniqueid`` and
  ``userfield`` when cdr.conf enables them, then ``peeraccount``, ``linkedid`` and ``sequence``
  with ``newcdrcolumns``; each line is read by its number of columns (``csv_layouts``), or by a
  layout the source names (option ``columns``). A run reads only
  what no earlier load took (``FileDropCursor``): each file is known by its first line, so a
  rotated ``Master.csv.1`` continues where ``Master.csv`` stopped, and only complete lines are
  read, so a line being written while the file is read waits for the next run.
* ``asterisk_db`` reads the ``cdr`` table (cdr_adaptive_odbc, cdr_mysql, cdr_pgsql) through
  SQLAlchemy, with the database URL from the Airflow connection, by ``calldate`` over the run's
  window (its trailing re-pull days included, so rows changed later are picked up).

Times are the server's local time (option ``server_time_zone``, default the source's
``time_zone``) unless cdr.conf has ``usegmtime=yes`` (option ``usegmtime: true``).

The legs of one call (queue members rung, transfers) share ``linkedid`` in the table (and in a CSV
with newcdrcolumns), else ``uniqueid`` in a CSV row of the same channel, and the ``Local/`` halves
of a ring group join the call that dialled them; they are folded: the earliest leg carries the call
and the other legs are quarantined as ``child_leg``. **Asterisk's trap:** a queue, IVR or voicemail
that answers writes ``ANSWERED`` with ``billsec > 0`` although no person is on the line. A leg is a
conversation only when it is ``ANSWERED``, has billsec, a ``dstchannel`` (option
``require_dstchannel``, default true) and a ``lastapp`` outside ``unattended_apps``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringback.quarantine import Reason
from ringback.settings import ConfigError, project_root
from ringback.sources.base import (
    NO_MARKETING,
    FetchResult,
    LegsConnector,
    MappingError,
    Window,
    to_e164,
    to_int,
)
from ringback.sources.transport import ProviderError

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
# cdr.conf's newcdrcolumns=yes: after uniqueid and userfield.
NEW_CDR_COLUMNS = ("uniqueid", "userfield", "peeraccount", "linkedid", "sequence")
DB_COLUMNS = (
    "calldate",
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
    "linkedid",
    "sequence",
)
DB_REQUIRED = ("calldate", "src", "dst", "channel", "duration", "billsec", "disposition")
STATUS = {
    "ANSWERED": "answered",
    "NO ANSWER": "missed",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",
}
# Applications that answer a channel with nobody on the other end. Queue and Dial are not here:
# with a dstchannel they reached a person, without one the dstchannel rule already says no.
UNATTENDED_APPS = (
    "Playback",
    "BackGround",
    "VoiceMail",
    "VoiceMailMain",
    "Read",
    "Record",
    "WaitExten",
    "Wait",
    "MusicOnHold",
    "Echo",
    "Hangup",
)
# FreePBX's and Asterisk's sample dialplan contexts.
INBOUND_CONTEXTS = ("from-trunk", "from-pstn", "from-external", "from-did-direct", "ext-did")
OUTBOUND_CONTEXTS = ("from-internal", "outbound-allroutes", "macro-dialout-trunk")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CHANNEL_EXTENSION = re.compile(r"^(?:SIP|PJSIP|IAX2|Local)/([^-@/;]+)", re.IGNORECASE)


def channel_extension(channel: Any) -> str | None:
    """``PJSIP/201-0000002a`` -> ``201``; a trunk channel names the trunk, which is fine for an
    outbound call's employee only when it is an extension, so digits alone count."""
    match = CHANNEL_EXTENSION.match(str(channel or ""))
    if not match or not match.group(1).isdigit():
        return None
    return match.group(1)


class AsteriskConnector(LegsConnector):
    """The CDR mapping both ways in share."""

    system = "telephony"
    id_field = "group_id"  # set on each record by ``fetch``: linkedid, uniqueid or a row hash
    statuses = STATUS
    live_dispositions = frozenset()  # a CDR is written when the call ends

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.source.options
        self.usegmtime = bool(options.get("usegmtime", False))
        self.server_tz = zoneinfo.ZoneInfo(
            str(options.get("server_time_zone") or self.source.time_zone)
        )
        self.require_dstchannel = bool(options.get("require_dstchannel", True))
        self.unattended_apps = {
            str(a).lower() for a in options.get("unattended_apps", UNATTENDED_APPS)
        }
        self.inbound_contexts = set(options.get("inbound_contexts", INBOUND_CONTEXTS))
        self.outbound_contexts = set(options.get("outbound_contexts", OUTBOUND_CONTEXTS))
        self.extension_max_digits = int(options.get("extension_max_digits", 5))

    # -- time ----------------------------------------------------------------------------------
    def parse_time(self, value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            naive = value.replace(tzinfo=None)
        else:
            try:
                naive = dt.datetime.strptime(str(value).strip()[:19], TIME_FORMAT)
            except (TypeError, ValueError):
                return None
        zone = dt.UTC if self.usegmtime else self.server_tz
        return naive.replace(tzinfo=zone).astimezone(dt.UTC)

    def server_time(self, at: dt.datetime) -> dt.datetime:
        """A UTC instant as the server writes it (naive)."""
        return at.astimezone(dt.UTC if self.usegmtime else self.server_tz).replace(tzinfo=None)

    def start_of(self, record: dict) -> Any:
        return record.get("calldate", record.get("start"))

    # -- legs ----------------------------------------------------------------------------------
    def leg_id(self, record: dict) -> str | None:
        # One channel's CDRs share uniqueid; the table numbers them (sequence).
        leg_id = str(record.get("uniqueid") or "").strip() or self.record_id(record)
        if record.get("sequence") not in (None, ""):
            leg_id = f"{leg_id}#{record['sequence']}"
        return leg_id

    def leg_order(self, leg: dict) -> tuple:
        # The channel that started the call (its uniqueid is the linkedid) before the legs it
        # created in the same second; Local ";2" halves after the channel that dialled them.
        uniqueid = str(leg.get("uniqueid") or "")
        started_it = uniqueid == str(leg.get("linkedid") or uniqueid)
        local_half = str(leg.get("channel") or "").endswith(";2")
        return (str(self.start_of(leg)), not started_it, local_half, uniqueid)

    def is_conversation(self, leg: dict) -> bool:
        """The trap rule: ANSWERED with billsec is a person only with a dstchannel and an
        application that connects one."""
        if str(leg.get("disposition") or "").strip().upper() != "ANSWERED":
            return False
        if to_int(leg, "billsec", default=0) <= 0:
            return False
        if self.require_dstchannel and not str(leg.get("dstchannel") or "").strip():
            return False
        return str(leg.get("lastapp") or "").strip().lower() not in self.unattended_apps

    def is_extension(self, number: Any) -> bool:
        digits = str(number or "").strip()
        return digits.isdigit() and len(digits) <= self.extension_max_digits

    def direction_of(self, head: dict) -> str | None:
        src_internal = self.is_extension(head.get("src"))
        if src_internal and self.is_extension(head.get("dst")):
            return "internal"  # extension to extension, whatever the context
        context = str(head.get("dcontext") or "").strip()
        if context in self.inbound_contexts:
            return "inbound"
        if context in self.outbound_contexts:
            return "outbound"
        return "outbound" if src_internal else "inbound"

    # -- mapping -------------------------------------------------------------------------------
    def raw_view(self, record: Any) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        return {
            "provider_call_id": self.leg_id(record),
            "started_at": self.parse_time(self.start_of(record)),
            "disposition": str(record.get("disposition") or "").strip().upper() or None,
        }

    def map_record(self, record: dict) -> dict:
        call_id = self.required_id(record)
        if "columns" in record:
            expected = ", ".join(str(n) for n in sorted(self.csv_layouts()))
            raise MappingError(
                Reason.MALFORMED_ROW,
                f"{len(record['columns'])} columns, expected one of {expected} "
                "(or name the layout in the source's `columns:`)",
            )
        legs = self.call_legs(call_id, record)
        head = legs[0]
        disposition, status = self.status_of(head)
        started_at = self.parse_time(self.start_of(head))
        if started_at is None:
            raise MappingError(Reason.UNPARSEABLE_TIME, f"start {self.start_of(head)!r}")
        direction = self.direction_of(head)
        if direction == "internal":
            raise MappingError(
                Reason.INTERNAL_CALL,
                f"{head.get('src')} -> {head.get('dst')}: extension to extension",
            )
        people = []
        ended = 0  # seconds from the call's start to the end of its last leg
        for leg in legs:
            billsec, duration = (
                to_int(leg, "billsec", default=0),
                to_int(leg, "duration", default=0),
            )
            if billsec < 0 or duration < 0:
                raise MappingError(Reason.INVALID_NUMBER, f"billsec={billsec}, duration={duration}")
            leg_start = self.parse_time(self.start_of(leg)) or started_at
            # Until this leg was answered: the IVR and queue legs before it, then its ringing.
            answered_after = int((leg_start - started_at).total_seconds()) + duration - billsec
            ended = max(ended, answered_after + billsec)
            if self.is_conversation(leg):
                people.append((billsec, answered_after, leg))
        # The longest conversation; of equal ones, the leg that reached a phone rather than the
        # Local channel of a ring group or queue standing in for it.
        talk, answered_after, person = max(
            people,
            key=lambda p: (p[0], not local_pair(str(p[2].get("dstchannel") or ""))),
            default=(0, 0, None),
        )
        if person is not None:
            status = "answered"
        elif status == "answered":
            # Answered by the dialplan, not a person: voicemail if that is where it ended.
            apps = {str(leg.get("lastapp") or "").strip().lower() for leg in legs}
            status = "voicemail" if {"voicemail"} & apps else "missed"
        region = self.source.default_region
        if direction == "inbound":
            customer, company = head.get("src"), head.get("dst")
            employee = channel_extension(person.get("dstchannel")) if person else None
            wait = max(answered_after, 0) if person else None
        else:
            customer, company = head.get("dst"), None
            employee = channel_extension(head.get("channel"))
            wait = None
        return {
            **self.base_row(call_id, started_at),
            "direction": direction,
            "customer_number": to_e164(customer, region),
            "company_number": None if self.is_extension(company) else to_e164(company, region),
            "wait_seconds": wait,
            "talk_seconds": talk,
            "status": status,
            **NO_MARKETING,
            "provider_status": disposition,
            "total_seconds": ended,
            "employee_id": employee,
            "employee_name": None,
        }

    def csv_columns(self) -> tuple[str, ...]:
        """The layout the source's options name (``columns``, else ``uniqueid``/``userfield``)."""
        options = self.source.options
        if options.get("columns"):
            return tuple(str(c) for c in options["columns"])
        extra = ("uniqueid",) if options.get("uniqueid", False) else ()
        extra += ("userfield",) if options.get("userfield", False) else ()
        return CSV_COLUMNS + extra

    def csv_layouts(self) -> dict[int, tuple[str, ...]]:
        """Column names by a line's number of columns: cdr_csv's layouts (16 standard; 17 with
        ``loguniqueid``, or ``loguserfield`` alone when the options say so; 18 with both; 21
        with ``newcdrcolumns``: peeraccount, linkedid, sequence), and the options' own."""
        options = self.source.options
        only_userfield = options.get("userfield", False) and not options.get("uniqueid", True)
        layouts = {
            16: CSV_COLUMNS,
            17: CSV_COLUMNS + (("userfield",) if only_userfield else ("uniqueid",)),
            18: (*CSV_COLUMNS, "uniqueid", "userfield"),
            21: CSV_COLUMNS + NEW_CDR_COLUMNS,
        }
        configured = self.csv_columns()
        return layouts | {len(configured): configured}


# -- the drop folder -------------------------------------------------------------------------
@dataclass(frozen=True)
class FileRead:
    """What one load read of one file: ``offset_from`` .. ``offset_to`` (bytes, complete lines)."""

    file_name: str
    fingerprint: str
    offset_from: int
    offset_to: int
    size_seen: int
    rows: int


def fingerprint(path: Path) -> str | None:
    """The sha256 of a file's first complete line: its identity across renames (rotation)."""
    with path.open("rb") as handle:
        first = handle.readline()
    if not first.endswith(b"\n"):
        return None  # nothing complete to read yet
    return hashlib.sha256(first).hexdigest()


def row_id(row: dict) -> str:
    """An id for a row written without uniqueid: the same row always gets the same id."""
    start = row.get("start", row.get("calldate", ""))
    key = "|".join(str(v) for v in (start, *(row.get(c, "") for c in ("channel", "src", "dst"))))
    return "row-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def channel_group(row: dict) -> str:
    """Without uniqueid, the legs of one call are the rows of its channel: a channel's name
    (``PJSIP/trunk-0000001a``) is unique while Asterisk runs; the day keeps a restart's reuse of
    a name apart."""
    key = f"{row.get('channel', '')}|{str(row.get('start', ''))[:10]}"
    return "chan-" + hashlib.sha256(key.encode()).hexdigest()[:24]


class AsteriskCsvConnector(AsteriskConnector):
    provider = "asterisk_csv"
    load = "cdr_files"
    default_base_url = ""  # a folder, no connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Where earlier loads stopped, by fingerprint; set by ingest before ``fetch``.
        self.offsets: dict[str, int] = {}
        self.reads: list[FileRead] = []

    def folder(self) -> Path:
        value = self.source.options.get("folder")
        if not value:
            raise ConfigError(f"source {self.source.id!r}: asterisk_csv needs a `folder:`")
        folder = Path(str(value))
        return folder if folder.is_absolute() else project_root() / folder

    def files(self) -> list[Path]:
        pattern = str(self.source.options.get("file_pattern", "Master.csv*"))
        folder = self.folder()
        if not folder.is_dir():
            raise ConfigError(f"source {self.source.id!r}: no folder {folder}")
        # Oldest first (Master.csv.2, .1, then Master.csv); compressed rotations are skipped.
        found = [p for p in folder.glob(pattern) if p.is_file() and p.suffix != ".gz"]
        return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))

    def fetch(self, window: Window) -> FetchResult:
        """Every complete line no earlier load read, whatever day it is of: the window only
        names the load (a drop folder may bring last month's file today)."""
        layouts = self.csv_layouts()
        records: list[dict] = []
        self.reads = []
        for path in self.files():
            mark = fingerprint(path)
            if mark is None:
                continue
            start = self.offsets.get(mark, 0)
            with path.open("rb") as handle:
                handle.seek(0, io.SEEK_END)
                size = handle.tell()
                if size < start:
                    log.warning(
                        "%s shrank below what was read (%d < %d): reading it again",
                        path.name,
                        size,
                        start,
                    )
                    start = 0
                handle.seek(start)
                data = handle.read(size - start)  # what is there now; later appends wait
            complete = data[: data.rfind(b"\n") + 1]
            offset = start
            rows = 0
            for line in complete.splitlines(keepends=True):
                text = line.decode("utf-8", errors="replace")
                parsed = next(csv.reader([text]), [])
                if parsed:
                    records.append(self.csv_record(parsed, layouts, path.name, offset))
                    rows += 1
                offset += len(line)
            if complete or mark not in self.offsets:
                self.reads.append(FileRead(path.name, mark, start, offset, size, rows))
        fold_local_halves(records)
        return FetchResult(records, 0, 0)

    def csv_record(
        self, parsed: list[str], layouts: dict[int, tuple[str, ...]], name: str, at: int
    ) -> dict:
        where = {"file": name, "byte_offset": at}
        columns = layouts.get(len(parsed))
        if columns is None:
            return {**where, "group_id": f"{name}@{at}", "columns": parsed}
        row = dict(zip(columns, parsed, strict=True))
        group = (
            str(row.get("linkedid") or "").strip()
            or str(row.get("uniqueid") or "").strip()
            or channel_group(row)
        )
        return {**where, **row, "group_id": group}


def local_pair(channel: str) -> str | None:
    """``Local/101@from-queue-0000001c;1`` and its ``;2`` half name one Local channel."""
    channel = channel.strip()
    if channel.startswith("Local/") and channel[-2:] in (";1", ";2"):
        return channel[:-2]
    return None


def fold_local_halves(records: list[dict]) -> None:
    """Without linkedid, each ``Local/...;2`` half of a ring group or queue has a uniqueid of its
    own: put it in the call of the row that dialled its ``;1`` half (``dstchannel``), on the same
    day, as the cdr table's linkedid would. Chains (a Local half dialling another) follow."""
    if any(r.get("linkedid") for r in records):
        return
    dialled: dict[tuple[str, str], str] = {}
    for record in records:
        pair = local_pair(str(record.get("dstchannel") or ""))
        if pair and not local_pair(str(record.get("channel") or "")):
            dialled[pair, str(record.get("start", ""))[:10]] = record["group_id"]
    for _ in range(3):  # Local halves dialling Local halves: a few levels at most
        changed = False
        for record in records:
            pair = local_pair(str(record.get("channel") or ""))
            group = dialled.get((pair, str(record.get("start", ""))[:10])) if pair else None
            if group and record["group_id"] != group:
                record["group_id"] = group
                changed = True
            onward = local_pair(str(record.get("dstchannel") or ""))
            if pair and onward:
                dialled.setdefault((onward, str(record.get("start", ""))[:10]), record["group_id"])
        if not changed:
            break


# -- the cdr table ---------------------------------------------------------------------------
class AsteriskDbConnector(AsteriskConnector):
    provider = "asterisk_db"
    default_base_url = ""  # a database URL, resolved in fetch (never logged)

    def fetch(self, window: Window) -> FetchResult:
        import sqlalchemy as sa
        import tenacity

        from ringback.sources.connection import database_url

        url = database_url(self.source.conn_id)
        try:
            engine = sa.create_engine(url, pool_pre_ping=True)
        except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as exc:
            dialect = url.partition("://")[0]
            raise ConfigError(
                f"source {self.source.id!r}: cannot use a {dialect!r} database here "
                f"({type(exc).__name__}: {str(exc)[:120]}); install its driver "
                "(docs/providers.md, Asterisk: psycopg2-binary for PostgreSQL, pymysql for MySQL)"
            ) from None
        table_name = str(self.source.options.get("table", "cdr"))
        attempts = 0

        def pull() -> list[dict]:
            nonlocal attempts
            attempts += 1
            with engine.connect() as conn:
                table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
                have = [c for c in DB_COLUMNS if c in table.c]
                missing = [c for c in DB_REQUIRED if c not in table.c]
                if missing:
                    raise ConfigError(
                        f"source {self.source.id!r}: table {table_name} lacks {', '.join(missing)}"
                    )
                start, end = self.server_time(window.start_at), self.server_time(window.end_at)
                if conn.dialect.name == "sqlite":
                    # SQLite keeps calldate as text: compare text to text, to the second
                    # (a bound datetime would carry ".000000" and miss a call at midnight).
                    start, end = start.strftime(TIME_FORMAT), end.strftime(TIME_FORMAT)
                    calldate = sa.func.substr(sa.cast(table.c.calldate, sa.String), 1, 19)
                else:
                    calldate = table.c.calldate
                query = (
                    sa.select(*(table.c[c] for c in have))
                    .where(calldate >= start)
                    .where(calldate < end)
                    .order_by(table.c.calldate, *(table.c[c] for c in ("uniqueid",) if c in have))
                )
                return [dict(r._mapping) for r in conn.execute(query)]

        try:
            rows = tenacity.Retrying(
                retry=tenacity.retry_if_exception_type(sa.exc.OperationalError),
                stop=tenacity.stop_after_attempt(int(self.source.options.get("max_attempts", 4))),
                wait=tenacity.wait_exponential(multiplier=0.5, max=10),
                reraise=True,
            )(pull)
        except sa.exc.SQLAlchemyError as exc:
            # The message may hold the URL's host but never its password (SQLAlchemy masks it).
            raise ProviderError(
                f"source {self.source.id!r}: reading the cdr table failed after {attempts} "
                f"attempts ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            ) from exc
        finally:
            engine.dispose()
        records = []
        for row in rows:
            record = {
                k: (v.strftime(TIME_FORMAT) if isinstance(v, dt.datetime) else v)
                for k, v in row.items()
            }
            group = str(record.get("linkedid") or record.get("uniqueid") or "").strip()
            records.append({**record, "group_id": group or row_id(record)})
        return FetchResult(records, attempts, attempts - 1)
