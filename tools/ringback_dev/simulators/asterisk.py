"""An Asterisk that writes its CDRs: ``Master.csv`` lines (cdr_csv) and rows of the ``cdr`` table
(cdr_adaptive_odbc / cdr_pgsql; here any SQLAlchemy database, SQLite in the tests and the demo).

Calls come from the journeys; each is rendered as the legs Asterisk writes (docs/providers.md,
"Asterisk"):

* inbound, through an IVR greeting to a queue: the caller's channel (a trunk) is answered by the
  dialplan, so a leg that ended in the IVR (``BackGround``) or in the queue with nobody
  (``Queue``, empty ``dstchannel``) is ``ANSWERED`` with billsec and no person: the trap. An agent
  who picked up is the ``dstchannel`` of the ``Queue`` leg. Voicemail is ``VoiceMail``.
* outbound: an extension's channel dialling the trunk (``Dial``), ``from-internal``.

Legs of one call share ``linkedid`` (and, being one channel, ``uniqueid``). Times are the
server's local time unless ``usegmtime``. Faults for tests: ``append_partial`` leaves half a line
at the end of the file (a write in progress), ``rotate`` renames ``Master.csv`` as logrotate does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from pathlib import Path

from ringback.sources.asterisk import CSV_COLUMNS, DB_COLUMNS, TIME_FORMAT
from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall

CDR_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS cdr (
    calldate TIMESTAMP NOT NULL,
    clid VARCHAR(80) NOT NULL DEFAULT '',
    src VARCHAR(80) NOT NULL DEFAULT '',
    dst VARCHAR(80) NOT NULL DEFAULT '',
    dcontext VARCHAR(80) NOT NULL DEFAULT '',
    channel VARCHAR(80) NOT NULL DEFAULT '',
    dstchannel VARCHAR(80) NOT NULL DEFAULT '',
    lastapp VARCHAR(80) NOT NULL DEFAULT '',
    lastdata VARCHAR(80) NOT NULL DEFAULT '',
    duration INTEGER NOT NULL DEFAULT 0,
    billsec INTEGER NOT NULL DEFAULT 0,
    disposition VARCHAR(45) NOT NULL DEFAULT '',
    amaflags INTEGER NOT NULL DEFAULT 0,
    accountcode VARCHAR(20) NOT NULL DEFAULT '',
    uniqueid VARCHAR(32) NOT NULL DEFAULT '',
    userfield VARCHAR(255) NOT NULL DEFAULT '',
    linkedid VARCHAR(32) NOT NULL DEFAULT '',
    sequence INTEGER NOT NULL DEFAULT 0
)"""
IVR_SECONDS = 9
NOT_ANSWERED = {"busy": "BUSY", "failed": "CONGESTION", "missed": "NO ANSWER"}


def national(e164: str | None) -> str:
    """How a trunk presents a number: +380671234567 -> 0671234567; others without the +."""
    if not e164:
        return ""
    return "0" + e164[4:] if e164.startswith("+380") else e164.lstrip("+")


class AsteriskCdrWriter:
    def __init__(
        self,
        generator: JourneyGenerator | None = None,
        *,
        usegmtime: bool = False,
        uniqueid: bool = False,
        userfield: bool = False,
    ) -> None:
        self.generator = generator or JourneyGenerator()
        self.tz = zoneinfo.ZoneInfo(self.generator.profile.time_zone)
        self.usegmtime = usegmtime
        self.columns = (
            CSV_COLUMNS
            + (("uniqueid",) if uniqueid else ())
            + (("userfield",) if userfield else ())
        )

    def clock(self, at: dt.datetime) -> str:
        zone = dt.UTC if self.usegmtime else self.tz
        return at.astimezone(zone).strftime(TIME_FORMAT)

    def legs(self, call: TrueCall) -> list[dict]:
        """The CDRs of one call, in the order Asterisk writes them."""
        start = call.telephony_started_at
        seq = int(call.call_id)
        uniqueid = f"{int(start.timestamp())}.{seq % 100000}"
        base = {"accountcode": "", "amaflags": 3, "uniqueid": uniqueid, "linkedid": uniqueid}
        base["userfield"] = ""
        trunk = f"PJSIP/trunk-{seq % 0xFFFFFF:08x}"
        if call.direction == "outbound":
            who = call.employee or self.generator.profile.staff[0]
            talk = call.talk_seconds if call.status == "answered" else 0
            ring = call.wait_seconds
            return [
                self._leg(
                    base,
                    start,
                    ring,
                    talk,
                    src=who.extension,
                    dst=national(call.customer_number),
                    dcontext="from-internal",
                    clid=f'"{who.name}" <{who.extension}>',
                    channel=f"PJSIP/{who.extension}-{seq % 0xFFFFFF:08x}",
                    dstchannel=trunk,
                    lastapp="Dial",
                    disposition="ANSWERED" if talk else NOT_ANSWERED.get(call.status, "NO ANSWER"),
                )
            ]
        customer = national(call.customer_number) or "anonymous"
        common = {
            "src": customer,
            "dst": national(call.company_number),
            "dcontext": "from-trunk",
            "clid": f'"{customer}" <{customer}>',
            "channel": trunk,
        }
        if call.status in ("busy", "failed"):
            return [
                self._leg(
                    base,
                    start,
                    call.wait_seconds,
                    0,
                    **common,
                    dstchannel="",
                    lastapp="Dial",
                    disposition=NOT_ANSWERED[call.status],
                )
            ]
        # The IVR answers first: a leg of its own for every call that went through it.
        legs = [
            self._leg(
                base,
                start,
                IVR_SECONDS,
                IVR_SECONDS,
                **common,
                dstchannel="",
                lastapp="BackGround",
                disposition="ANSWERED",
                sequence=1,
            )
        ]
        after_ivr = start + dt.timedelta(seconds=IVR_SECONDS)
        wait = max(call.wait_seconds - IVR_SECONDS, 1)
        if call.status == "answered" and call.talk_seconds > 0:
            who = call.employee or self.generator.profile.staff[0]
            legs.append(
                self._leg(
                    base,
                    after_ivr,
                    wait,
                    call.talk_seconds,
                    **common,
                    dstchannel=f"PJSIP/{who.extension}-{(seq + 1) % 0xFFFFFF:08x}",
                    lastapp="Queue",
                    disposition="ANSWERED",
                    sequence=2,
                )
            )
        elif call.status == "voicemail":
            legs.append(
                self._leg(
                    base,
                    after_ivr,
                    0,
                    max(call.talk_seconds, 15),
                    **common,
                    dstchannel="",
                    lastapp="VoiceMail",
                    disposition="ANSWERED",
                    sequence=2,
                )
            )
        else:
            # The caller waited in the queue and hung up: still ANSWERED, billsec = the wait.
            legs.append(
                self._leg(
                    base,
                    after_ivr,
                    0,
                    wait,
                    **common,
                    dstchannel="",
                    lastapp="Queue",
                    disposition="ANSWERED",
                    sequence=2,
                )
            )
        return legs

    def _leg(self, base, start, ring, talk, *, sequence=1, **fields) -> dict:
        answer = start + dt.timedelta(seconds=ring) if talk else None
        end = start + dt.timedelta(seconds=ring + talk)
        return {
            **base,
            **fields,
            "lastdata": "",
            "calldate": self.clock(start),
            "start": self.clock(start),
            "answer": self.clock(answer) if answer else "",
            "end": self.clock(end),
            "duration": ring + talk,
            "billsec": talk,
            "sequence": sequence,
        }

    def cdrs(self, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[dict]:
        """Every CDR of the calls that started in [start, end) and ended by ``now``."""
        calls = self.generator.calls_between(start, min(end, now))
        return [
            leg
            for call in calls
            if call.seen_by_telephony and call.ended_at <= now
            for leg in self.legs(call)
        ]

    # -- cdr_csv ---------------------------------------------------------------------------------
    def csv_lines(self, cdrs: list[dict]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        for cdr in cdrs:
            writer.writerow([cdr[c] for c in self.columns])
        return out.getvalue()

    def append_csv(self, folder: Path, cdrs: list[dict], name: str = "Master.csv") -> Path:
        path = folder / name
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(self.csv_lines(cdrs))
        return path

    def append_partial(self, folder: Path, cdr: dict, name: str = "Master.csv") -> str:
        """Half of a line, as when Asterisk is writing it while the file is read; returns the
        rest, for the test to write later."""
        line = self.csv_lines([cdr])
        cut = len(line) // 2
        with (folder / name).open("a", encoding="utf-8") as handle:
            handle.write(line[:cut])
        return line[cut:]

    @staticmethod
    def rotate(folder: Path, name: str = "Master.csv") -> None:
        """logrotate's way: Master.csv.1 -> .2, Master.csv -> .1, a new Master.csv next write."""
        for n in range(8, 0, -1):
            older = folder / f"{name}.{n}"
            if older.exists():
                older.rename(folder / f"{name}.{n + 1}")
        (folder / name).rename(folder / f"{name}.1")

    # -- the cdr table ---------------------------------------------------------------------------
    def write_db(self, url: str, cdrs: list[dict]) -> None:
        """Insert the CDRs into the cdr table (created if missing); a CDR already there (same
        uniqueid and sequence) is left alone."""
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        columns = list(DB_COLUMNS)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(CDR_TABLE_SQL))
                have = {
                    (u, s) for u, s in conn.execute(sa.text("SELECT uniqueid, sequence FROM cdr"))
                }
                rows = [
                    {c: cdr[c] for c in columns}
                    for cdr in cdrs
                    if (cdr["uniqueid"], cdr["sequence"]) not in have
                ]
                if rows:
                    conn.execute(
                        sa.text(
                            f"INSERT INTO cdr ({', '.join(columns)}) "
                            f"VALUES ({', '.join(':' + c for c in columns)})"
                        ),
                        rows,
                    )
        finally:
            engine.dispose()
