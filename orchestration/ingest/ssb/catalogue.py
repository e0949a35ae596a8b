"""SSB's catalogue as configured (`config/ssb_tables.yaml`), and its verification against SSB's metadata.

The catalogue says, per measure, which (table, ContentsCode, first year, last year) serve its series, so
one series can come from several table generations (06493 → 12008, 13138 → 13995) or from a code SSB
redefined (`…0000` → `…0001`). The first year of every later generation is a series break.

Before a live run loads anything it reads every configured table's `/metadata` once (`verify`) and
compares: a table that answers 404, or a configured ContentsCode the table lacks, is a `Gap`, named with
its table, code, label, measure and the indicators that depend on it. What happens then is the
`on_missing` setting (`stop` by default; `continue` loads what exists and records one quality finding per
gap). The same metadata tells which periods a table holds, so a table is asked only for those.

No Dagster imports here: the asset, the `sources check` command and the tests all call these functions.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration import settings

ON_MISSING_ENV = "BOLIGSOSIAL_SSB_ON_MISSING"
ON_MISSING_CHOICES = ("stop", "continue")
GAP_KIND = "ssb_catalogue_gap"
CHECK_NAME = "ssb_catalogue"
NATIONAL = "0000"

# Indicators built on derived measures (int_derived_measures.sql) depend on these inputs.
DERIVED_INPUTS = {
    "derived.referral_dwellings": ("dwellings_private_disposal", "dwellings_user_owned_disposal"),
    "derived.disadvantaged_dwellings": ("dwellings_total", "care_dwellings"),
    "derived.residents_80plus_municipal_care": ("residents_80plus_municipal_dwellings",
                                                "residents_80plus_nursing_homes"),
    "population_end_of_year": ("population",),
    "population_80_plus_end_of_year": ("population",),
}


class CatalogueError(ValueError):
    """The catalogue file itself is inconsistent (unknown table, overlapping years, …)."""


class CatalogueMismatch(RuntimeError):
    """SSB lacks configured tables or codes and the run is set to stop: nothing was loaded."""

    def __init__(self, verification: Verification):
        self.verification = verification
        super().__init__(verification.message(stopping=True))


@dataclass(frozen=True)
class Span:
    """One stretch of a measure's series: years `first`–`last` (None: still running) from `table_id`/`code`."""

    measure: str
    table_id: str
    code: str
    first: int
    last: int | None
    confirmed: bool
    kind: str
    label: str
    series_break: bool = False  # the first year of a later table generation or code

    def covers(self, year: int) -> bool:
        return year >= self.first and (self.last is None or year <= self.last)

    @property
    def years_text(self) -> str:
        return f"{self.first}–{self.last if self.last is not None else ''}"


@dataclass
class Catalogue:
    tables: list[dict]
    spans: list[Span]
    on_missing: str = "stop"
    path: Path | None = None

    def table(self, table_id: str) -> dict:
        return next(t for t in self.tables if t["table_id"] == table_id)

    def spans_of(self, table_id: str) -> list[Span]:
        return [s for s in self.spans if s.table_id == table_id]

    def measures(self) -> dict[str, list[Span]]:
        out: dict[str, list[Span]] = {}
        for s in self.spans:
            out.setdefault(s.measure, []).append(s)
        return out

    def series_breaks(self) -> list[dict]:
        """`series_breaks` entries (as in config/quality.yaml) for every generation seam."""
        return [{"measure": s.measure, "year": s.first,
                 "reason": f"ny tabellgenerasjon: {s.measure} fra tabell {s.table_id} ({s.code}) fra {s.first}"}
                for s in self.spans if s.series_break]

    def years_for(self, table_id: str, held: Iterable[int] | None, wanted: Iterable[int] | None) -> list[int]:
        """The years to ask `table_id` for: those the catalogue takes from it, that the table holds
        (`held`; None: unknown) and that the run wants (`wanted`; None: all)."""
        spans = self.spans_of(table_id)
        held_set = set(held) if held is not None else None
        if wanted is not None:
            candidates = set(wanted)
        elif held_set is not None:
            candidates = held_set
        else:  # periods unknown: every year the catalogue takes from the table, up to this year
            import datetime as dt

            candidates = set(range(min(s.first for s in spans), dt.date.today().year + 1)) if spans else set()
        years = {y for y in candidates if any(s.covers(y) for s in spans)}
        if held_set is not None:
            years &= held_set
        return sorted(years)


def config_path() -> Path:
    return settings.CONFIG_DIR / "ssb_tables.yaml"


def load(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue; every problem is named with the measure and span it concerns."""
    path = path or config_path()
    doc = settings.read_yaml(path) or {}
    tables = [dict(t) for t in doc.get("tables") or []]
    by_id = {str(t["table_id"]): t for t in tables}
    problems: list[str] = []
    spans: list[Span] = []
    for measure, spec in (doc.get("measures") or {}).items():
        kind = spec.get("kind")
        if kind not in ("count", "ratio"):
            problems.append(f"measures.{measure}: kind must be count or ratio, not {kind!r}")
        entries = sorted(spec.get("series") or [], key=lambda e: int(e.get("from", 0)))
        if not entries:
            problems.append(f"measures.{measure}: no series")
        previous: Span | None = None
        for entry in entries:
            table_id, code = str(entry.get("table", "")), str(entry.get("code", ""))
            where = f"measures.{measure} ({table_id}/{code})"
            if table_id not in by_id:
                problems.append(f"{where}: table {table_id!r} is not under `tables`")
            if not code:
                problems.append(f"{where}: no code")
            first = int(entry["from"]) if entry.get("from") is not None else None
            last = int(entry["to"]) if entry.get("to") is not None else None
            if first is None or (last is not None and last < first):
                problems.append(f"{where}: years from {entry.get('from')} to {entry.get('to')} are not a range")
                continue
            if previous is not None and (previous.last is None or previous.last >= first):
                problems.append(f"{where}: years from {first} overlap {previous.table_id}/{previous.code} "
                                f"({previous.years_text}); one year comes from one table")
            seam = previous is not None and (previous.table_id, previous.code) != (table_id, code)
            span = Span(measure, table_id, code, first, last, bool(entry.get("confirmed", False)), str(kind),
                        str(spec.get("label") or measure), series_break=seam)
            spans.append(span)
            previous = span
    seen: dict[tuple[str, str], str] = {}
    for s in spans:
        other = seen.setdefault((s.table_id, s.code), s.measure)
        if other != s.measure:
            problems.append(f"measures.{s.measure}: {s.table_id}/{s.code} is already the code of {other}")
    if problems:
        raise CatalogueError(f"{path}: " + "; ".join(problems))
    on_missing = str(doc.get("on_missing") or "stop").strip().lower()
    if on_missing not in ON_MISSING_CHOICES:
        raise CatalogueError(f"{path}: on_missing must be one of {ON_MISSING_CHOICES}, not {on_missing!r}")
    for table in tables:  # the shape the loaders and the demo generator read: code -> spec
        table["contents"] = {
            s.code: {"measure": s.measure, "kind": s.kind, "confirmed": s.confirmed, "first_year": s.first,
                     "last_year": s.last, "series_break": s.series_break, "label": s.label}
            for s in spans if s.table_id == table["table_id"]}
    return Catalogue(tables, spans, on_missing, path)


def load_tables(path: Path | None = None) -> list[dict]:
    """The configured tables, each with `contents` {code: {measure, kind, confirmed, first_year, …}}."""
    return load(path).tables


def on_missing_setting(catalogue: Catalogue) -> str:
    """`BOLIGSOSIAL_SSB_ON_MISSING` if set, else the catalogue's `on_missing`."""
    value = os.environ.get(ON_MISSING_ENV, "").strip().lower()
    if not value:
        return catalogue.on_missing
    if value not in ON_MISSING_CHOICES:
        raise ValueError(f"{ON_MISSING_ENV} must be one of {', '.join(ON_MISSING_CHOICES)}, not {value!r}")
    return value


def indicators_by_measure(path: Path | None = None) -> dict[str, list[str]]:
    """measure → the indicators (dbt seed indicators.csv) whose numerator or denominator needs it."""
    path = path or settings.DBT_PROJECT_DIR / "seeds" / "indicators.csv"
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for column in ("numerator_measure", "denominator_measure"):
                ref = (row.get(column) or "").strip()
                for measure in DERIVED_INPUTS.get(ref, (ref,)) if ref else ():
                    if row["indicator_id"] not in out.setdefault(measure, []):
                        out[measure].append(row["indicator_id"])
    return out


# ------------------------------------------------------------------------------- SSB's metadata


@dataclass
class TableMetadata:
    """What SSB says a table holds: ContentsCode → label, and its periods."""

    table_id: str
    status: str                          # ok | missing (404) | error
    label: str | None = None
    contents: dict[str, str] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def years(self) -> list[int] | None:
        years = sorted({int(p[:4]) for p in self.periods if re.match(r"^\d{4}", p)})
        return years or None


def parse_metadata(table_id: str, doc: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> TableMetadata:
    """v2 json-stat2 metadata (`dimension.ContentsCode.category`) or v0 (`variables[]`)."""
    contents: dict[str, str] = {}
    periods: list[str] = []
    if "dimension" in doc:
        dims = doc["dimension"]
        roles = doc.get("role") or {}
        metric = next(iter(roles.get("metric") or []), "ContentsCode")
        time = next(iter(roles.get("time") or []), "Tid")
        cat = (dims.get(metric) or {}).get("category") or {}
        index = cat.get("index") or {}
        codes = sorted(index, key=index.__getitem__) if isinstance(index, Mapping) else list(index)
        codes = codes or list((cat.get("label") or {}))
        contents = {c: str((cat.get("label") or {}).get(c, c)) for c in codes}
        tcat = (dims.get(time) or {}).get("category") or {}
        tindex = tcat.get("index") or {}
        periods = sorted(tindex, key=tindex.__getitem__) if isinstance(tindex, Mapping) else list(tindex)
        label = doc.get("label")
    else:
        for var in doc.get("variables") or []:
            if var.get("code") == "ContentsCode":
                contents = dict(zip([str(v) for v in var.get("values", [])], var.get("valueTexts", [])))
            if var.get("time") or var.get("code") == "Tid":
                periods = [str(v) for v in var.get("values", [])]
        label = doc.get("title")
    if not periods and info and info.get("firstPeriod") and info.get("lastPeriod"):
        first, last = str(info["firstPeriod"])[:4], str(info["lastPeriod"])[:4]
        if first.isdigit() and last.isdigit():
            periods = [str(y) for y in range(int(first), int(last) + 1)]
    return TableMetadata(table_id, "ok", label, contents, periods)


def read_metadata(client, table_id: str) -> TableMetadata:
    """One table's metadata; a 404 (or v0's 400 for an unknown table) is `missing`, not an exception."""
    from orchestration.ingest.ssb.client import SsbError, SsbQueryError

    try:
        doc = client.metadata(table_id)
    except SsbQueryError as err:
        if re.search(r"answered (404|400)", str(err)):
            return TableMetadata(table_id, "missing", error=str(err))
        return TableMetadata(table_id, "error", error=str(err))
    except SsbError as err:
        return TableMetadata(table_id, "error", error=str(err))
    return parse_metadata(table_id, doc)


# ---------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Gap:
    """A configured code SSB does not have (its table answered 404, or its metadata lacks the code)."""

    span: Span
    reason: str                          # "table_missing" | "code_missing"
    indicators: tuple[str, ...]
    detail: str = ""

    @property
    def finding_id(self) -> str:
        return f"{GAP_KIND}:{NATIONAL}:-:{self.span.measure}/{self.span.table_id}/{self.span.code}"

    def message(self) -> str:
        s = self.span
        where = (f"tabell {s.table_id} finnes ikke hos SSB (404): {s.code}" if self.reason == "table_missing"
                 else f"tabell {s.table_id} har ikke ContentsCode {s.code}")
        affected = ", ".join(self.indicators) if self.indicators else "ingen indikatorer"
        return (f"{where} «{s.label}» (måltall {s.measure}, år {s.years_text}, "
                f"{'bekreftet' if s.confirmed else 'ikke bekreftet'}); berørte indikatorer: {affected}")

    def reason_text(self) -> str:
        """Why the measure's years from this span are empty, as the marts' `missing_reason` says it."""
        s = self.span
        what = ("finnes ikke hos SSB (404)" if self.reason == "table_missing"
                else f"har ikke ContentsCode {s.code}")
        return (f"SSB-tabell {s.table_id} {what}: {s.measure} ({s.code}) mangler for {s.years_text} "
                f"(hull i SSB-katalogen, funn {GAP_KIND})")

    def finding(self) -> dict:
        return {"finding_id": self.finding_id, "kind": GAP_KIND, "severity": "WARNING",
                "municipality_code": NATIONAL, "year": None, "measure": self.span.measure,
                "observed": None, "expected": None, "deviation": None, "relative_deviation": None,
                "message": self.message(), "check_name": CHECK_NAME, "table_name": f"ssb/{self.span.table_id}"}


@dataclass
class Verification:
    catalogue: Catalogue
    metadata: dict[str, TableMetadata]
    gaps: list[Gap]
    base_url: str = ""

    @property
    def ok(self) -> bool:
        return not self.gaps and not self.errors

    @property
    def errors(self) -> list[TableMetadata]:
        return [m for m in self.metadata.values() if m.status == "error"]

    @property
    def missing_tables(self) -> list[str]:
        return sorted(t for t, m in self.metadata.items() if m.status == "missing")

    def present(self) -> list[Span]:
        gapped = {g.span for g in self.gaps}
        return [s for s in self.catalogue.spans if s not in gapped and self.metadata[s.table_id].status == "ok"]

    def message(self, stopping: bool = False) -> str:
        if self.ok:
            return f"SSB-katalogen stemmer: {len(self.catalogue.spans)} koder i {len(self.metadata)} tabeller finnes"
        lines = [f"SSB-katalogen stemmer ikke med SSB ({self.base_url}): "
                 f"{len(self.gaps)} konfigurerte koder mangler"
                 + (f", {len(self.missing_tables)} tabeller finnes ikke ({', '.join(self.missing_tables)})"
                    if self.missing_tables else "")]
        lines += [f"  - {g.message()}" for g in self.gaps]
        lines += [f"  - tabell {m.table_id}: metadata kunne ikke leses: {m.error}" for m in self.errors]
        if stopping:
            lines.append(f"Ingenting er lastet inn. Rett orchestration/config/ssb_tables.yaml (`boligsosial sources "
                         f"check` foreslår koder), eller sett {ON_MISSING_ENV}=continue (on_missing: continue) for å "
                         "laste det som finnes og registrere hvert hull som funn.")
        return "\n".join(lines)


def verify(client, catalogue: Catalogue, cache: dict[str, TableMetadata] | None = None) -> Verification:
    """Compare every configured table's metadata with the catalogue; `cache` keeps one read per table per run."""
    cache = cache if cache is not None else {}
    indicators = indicators_by_measure()
    gaps: list[Gap] = []
    for table in catalogue.tables:
        table_id = table["table_id"]
        if table_id not in cache:
            cache[table_id] = read_metadata(client, table_id)
        meta = cache[table_id]
        for span in catalogue.spans_of(table_id):
            affected = tuple(indicators.get(span.measure, []))
            if meta.status == "missing":
                gaps.append(Gap(span, "table_missing", affected, meta.error or ""))
            elif meta.status == "ok" and span.code not in meta.contents:
                gaps.append(Gap(span, "code_missing", affected))
    return Verification(catalogue, {t["table_id"]: cache[t["table_id"]] for t in catalogue.tables}, gaps,
                        getattr(client, "base_url", ""))


def record_findings(con, run_id: str, verification: Verification) -> None:
    """One quality finding per gap (kind ssb_catalogue_gap), merged into quality.findings and the digest by
    the quality/findings step of the same run; a gap that is gone at a later verified run resolves."""
    from orchestration.quality import store

    findings = [g.finding() for g in verification.gaps]
    store.record_source_check(
        con, run_id, CHECK_NAME, "raw.ssb_observations", "WARNING", passed=not findings, skipped=False,
        kinds=[GAP_KIND], findings=findings,
        details={"base_url": verification.base_url, "missing_tables": verification.missing_tables,
                 "gaps": [g.finding_id for g in verification.gaps]})
