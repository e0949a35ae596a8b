"""Source freshness (issue 7): is the newest figure loaded from each source as recent as it should be?

Every source with an expected freshness is listed under `freshness.sources` in `config/quality.yaml`, with
one of three rules:

- `yearly`        statistics year Y is due by `due` (MM-DD) of year Y + `lag_years`; the newest year with a
                  figure in `raw.ssb_observations` (table `ssb_table`) must be at least the year due today.
                  KOSTRA: lag 1, due 07-01 (published 15 March, revised 15 June).
- `monthly`       with today in month M, month M − `max_lag_months` must be in `raw.husbanken_instruments`
                  (rows with `grain` = `husbanken_grain`, optionally one `instrument`).
- `loaded_within` the newest `loaded` (or `checked`: fetched, unchanged) row of `raw.load_log` for
  `load_log_source` is at most `max_age_days` old.

A source that is behind is a `stale_source` finding (national: municipality 0000, measure = the rule's
`measure`, observed = the newest period loaded, expected = the period due, as numbers YYYY / YYYYMM /
YYYYMMDD; the message spells both out) with the configured severity, and a failed `freshness_<measure>`
check on quality/findings. The finding id has no period in it, so a stale source is reported once as new,
stays open (deviation is left empty: it never counts as «worsened») and resolves once the source is fresh.
A source whose table is not in the warehouse at all is skipped: its earlier finding is left as it was.

"Today" is `store.today()`: `BOLIGSOSIAL_TODAY=YYYY-MM-DD` overrides the date (tests, replaying a day).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from orchestration.quality import store
from orchestration.warehouse import relation_exists

KIND = "stale_source"
NATIONAL = "0000"
RULES = ("yearly", "monthly", "loaded_within")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class SourceRule:
    measure: str                     # "ssb/12008": the finding's measure; the check is freshness_ssb_12008
    rule: str                        # yearly | monthly | loaded_within
    label: str
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def check_name(self) -> str:
        return "freshness_" + re.sub(r"[^A-Za-z0-9_]", "_", self.measure)

    @property
    def table(self) -> str:
        return {"yearly": "raw.ssb_observations", "monthly": "raw.husbanken_instruments",
                "loaded_within": "raw.load_log"}[self.rule]


@dataclass
class Freshness:
    rule: SourceRule
    today: dt.date
    due: str                         # the period due today: "2025", "2026-09", "2025-10-19"
    newest: str | None = None        # the newest period loaded; None: nothing loaded
    stale: bool = False
    skipped: str | None = None       # "skipped: raw.x not present"
    observed: float | None = None    # newest / due as numbers (YYYY, YYYYMM, YYYYMMDD)
    expected: float | None = None
    behind: int | None = None        # periods (years, months, days) behind what is due
    details: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        if self.skipped:
            return f"{self.rule.label}: {self.skipped}"
        unit = {"yearly": "år", "monthly": "måned", "loaded_within": "innlasting"}[self.rule.rule]
        if self.newest is None:
            return f"{self.rule.label}: ingenting lastet inn; {self.due} var ventet per {self.today.isoformat()}"
        state = "utdatert" if self.stale else "oppdatert"
        if self.rule.rule == "loaded_within":
            text = (f"{self.rule.label}: sist lastet inn {self.newest}, skal være lastet inn etter {self.due} "
                    f"(innen {self.rule.params['max_age_days']} dager) per {self.today.isoformat()}")
        else:
            text = f"{self.rule.label}: nyeste {unit} {self.newest}, ventet {self.due} per {self.today.isoformat()}"
        if self.stale and self.behind:
            plural = {"yearly": "år", "monthly": "måneder", "loaded_within": "dager"}[self.rule.rule]
            text += f" ({self.behind} {plural} på etterskudd)"
        return f"{text}: {state}"

    def finding(self, severity: str) -> dict:
        return {
            "finding_id": f"{KIND}:{NATIONAL}:-:{self.rule.measure}",
            "kind": KIND, "severity": severity.upper(), "municipality_code": NATIONAL, "year": None,
            "measure": self.rule.measure, "observed": self.observed, "expected": self.expected,
            "deviation": None, "relative_deviation": None, "message": self.message,
            "check_name": self.rule.check_name, "table_name": self.rule.table,
        }

    def metadata(self) -> dict:
        return {"source": self.rule.measure, "rule": self.rule.rule, "today": self.today.isoformat(),
                "newest": self.newest, "due": self.due, "stale": self.stale, "behind": self.behind,
                "skipped": self.skipped, "message": self.message, **self.details}


# ------------------------------------------------------------------------------------------ config


def load_rules(config: dict) -> list[SourceRule]:
    """The `freshness.sources` of config/quality.yaml; a malformed entry raises, naming it."""
    rules: list[SourceRule] = []
    seen: set[str] = set()
    for number, entry in enumerate((config.get("freshness") or {}).get("sources") or [], start=1):
        where = f"config/quality.yaml freshness.sources[{number}]"
        entry = dict(entry or {})
        measure, rule = str(entry.pop("measure", "") or ""), str(entry.pop("rule", "") or "")
        label = str(entry.pop("label", "") or measure)
        if not measure:
            raise ValueError(f"{where}: `measure` is missing")
        if rule not in RULES:
            raise ValueError(f"{where} ({measure}): rule {rule!r} is not one of {', '.join(RULES)}")
        required = {"yearly": ("ssb_table",), "monthly": ("max_lag_months",),
                    "loaded_within": ("load_log_source", "max_age_days")}[rule]
        missing = [k for k in required if entry.get(k) in (None, "")]
        if missing:
            raise ValueError(f"{where} ({measure}): {', '.join(missing)} missing for rule {rule}")
        if rule == "yearly" and not _MONTH_DAY.match(str(entry.get("due", "01-01"))):
            raise ValueError(f"{where} ({measure}): due {entry.get('due')!r} is not MM-DD")
        source = SourceRule(measure, rule, label, entry)
        if source.check_name in seen:
            raise ValueError(f"{where}: {measure!r} is listed twice")
        seen.add(source.check_name)
        rules.append(source)
    return rules


def severity(config: dict) -> str:
    return str((config.get("freshness") or {}).get("severity") or "WARNING").upper()


# ------------------------------------------------------------------------------------------ rules


def due_year(today: dt.date, due: str = "01-01", lag_years: int = 0) -> int:
    """The newest statistics year due by `today`: year Y is due on `due` (MM-DD) of year Y + lag_years."""
    month, day = (int(p) for p in _MONTH_DAY.match(due).groups())
    reached = (today.month, today.day) >= (month, day)
    return today.year - lag_years - (0 if reached else 1)


def due_month(today: dt.date, max_lag_months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - int(max_lag_months)
    return index // 12, index % 12 + 1


def _yearly(con, rule: SourceRule, today: dt.date) -> Freshness:
    p = rule.params
    due = due_year(today, str(p.get("due", "01-01")), int(p.get("lag_years", 0)))
    result = Freshness(rule, today, str(due), expected=float(due))
    table_id = str(p["ssb_table"])
    newest = con.execute(
        "select max(try_cast(left(period, 4) as integer)) from raw.ssb_observations "
        "where table_id = ? and value is not null", [table_id]).fetchone()[0]
    if relation_exists(con, "raw.ssb_table_versions"):
        release = con.execute("select max(updated), max(loaded_at) from raw.ssb_table_versions where table_id = ?",
                              [table_id]).fetchone()
        result.details = {"release": release[0], "release_loaded_at": str(release[1]) if release[1] else None}
    if newest is not None:
        result.newest, result.observed = str(newest), float(newest)
        result.behind = max(0, due - int(newest))
    result.stale = newest is None or int(newest) < due
    return result


def _monthly(con, rule: SourceRule, today: dt.date) -> Freshness:
    p = rule.params
    year, month = due_month(today, int(p["max_lag_months"]))
    result = Freshness(rule, today, f"{year:04d}-{month:02d}", expected=float(year * 100 + month))
    sql = "select max(year * 12 + month - 1) from raw.husbanken_instruments where grain = ? and month is not null"
    args: list = [str(p.get("husbanken_grain", "month"))]
    if p.get("instrument"):
        sql += " and instrument = ?"
        args.append(str(p["instrument"]))
    newest = con.execute(sql, args).fetchone()[0]
    if newest is not None:
        newest = int(newest)
        n_year, n_month = newest // 12, newest % 12 + 1
        result.newest, result.observed = f"{n_year:04d}-{n_month:02d}", float(n_year * 100 + n_month)
        result.behind = max(0, (year * 12 + month - 1) - newest)
    result.stale = newest is None or newest < year * 12 + month - 1
    return result


def _loaded_within(con, rule: SourceRule, today: dt.date) -> Freshness:
    p = rule.params
    due = today - dt.timedelta(days=int(p["max_age_days"]))
    result = Freshness(rule, today, due.isoformat(), expected=float(due.strftime("%Y%m%d")))
    newest = con.execute("select max(loaded_at) from raw.load_log where source = ? "
                         "and status in ('loaded', 'checked')",
                         [str(p["load_log_source"])]).fetchone()[0]
    if newest is not None:
        loaded = pd.Timestamp(newest).date()
        result.newest, result.observed = loaded.isoformat(), float(loaded.strftime("%Y%m%d"))
        result.behind = max(0, (due - loaded).days)
        result.details = {"age_days": (today - loaded).days, "max_age_days": int(p["max_age_days"])}
    result.stale = newest is None or pd.Timestamp(newest).date() < due
    return result


def evaluate(con: duckdb.DuckDBPyConnection, rule: SourceRule, today: dt.date) -> Freshness:
    if not relation_exists(con, rule.table):
        due = {"yearly": lambda: str(due_year(today, str(rule.params.get("due", "01-01")),
                                              int(rule.params.get("lag_years", 0)))),
               "monthly": lambda: "{:04d}-{:02d}".format(*due_month(today, int(rule.params["max_lag_months"]))),
               "loaded_within": lambda: (today - dt.timedelta(days=int(rule.params["max_age_days"]))).isoformat(),
               }[rule.rule]()
        return Freshness(rule, today, due, skipped=f"skipped: {rule.table} not present")
    return {"yearly": _yearly, "monthly": _monthly, "loaded_within": _loaded_within}[rule.rule](con, rule, today)


def evaluate_all(con: duckdb.DuckDBPyConnection, config: dict, today: dt.date | None = None) -> list[Freshness]:
    today = today or store.today()
    return [evaluate(con, rule, today) for rule in load_rules(config)]


# ------------------------------------------------------------------------------------------ store


def record(con: duckdb.DuckDBPyConnection, run_id: str, results: list[Freshness], config: dict) -> None:
    """One quality.check_results row per source; a stale source's finding into this run's observations.

    The rows name the kind `stale_source` as evaluated (unless skipped), so merge_findings resolves a
    source's earlier finding once it is fresh again, and leaves it alone when the source was not checked.
    """
    level = severity(config)
    for r in results:
        findings = [r.finding(level)] if r.stale and not r.skipped else []
        store.record_source_check(
            con, run_id, r.rule.check_name, r.rule.table, level, passed=not findings,
            skipped=r.skipped is not None, kinds=[] if r.skipped else [KIND], findings=findings,
            details=json.loads(json.dumps(r.metadata(), default=str)))
