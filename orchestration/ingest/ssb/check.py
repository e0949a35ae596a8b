"""`boligsosial sources check`: the configured SSB catalogue against SSB's live metadata, loading nothing.

For every configured table it reads `/metadata` once and prints which configured ContentsCodes the table
has and which it lacks; for each missing code, the table's codes whose labels best match the measure's
label (difflib from the standard library: the labels are a few dozen short Norwegian phrases, so no fuzzy-
matching dependency is needed); for a table that answers 404, the tables whose titles match
(`GET /tables?query=`). It then writes a proposed corrected catalogue for a person to review: the same YAML
with each missing code replaced by its best match (always `confirmed: false`) and a `proposed:` note.

The first thing the data team runs the day they are online. Exit status 1 when anything is missing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestration import settings
from orchestration.ingest.ssb import catalogue as cat

MIN_SCORE = 0.6  # below this a label «match» is noise: the proposal says «choose by hand» instead
TOP_N = 3


@dataclass(frozen=True)
class Suggestion:
    code: str
    label: str
    score: float

    def __str__(self) -> str:
        return f"{self.code} «{self.label}» ({self.score:.2f})"


@dataclass
class CheckResult:
    verification: cat.Verification
    suggestions: dict[cat.Gap, list[Suggestion]] = field(default_factory=dict)
    table_candidates: dict[str, list[str]] = field(default_factory=dict)
    proposed_path: Path | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verification.ok


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^\wæøå]+", " ", text).strip()


def score(wanted: str, label: str) -> float:
    """Similarity of two labels: the mean of difflib's character ratio and the words they share (Jaccard),
    so «Kommunalt eide boliger» does not match «Ledige kommunalt disponerte boliger» on spelling alone."""
    a, b = _norm(wanted), _norm(label)
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    overlap = len(words_a & words_b) / len(words_a | words_b) if words_a | words_b else 0.0
    return round((ratio + overlap) / 2, 3)


def suggest(label: str, contents: dict[str, str], exclude: set[str] = frozenset(), n: int = TOP_N) -> list[Suggestion]:
    ranked = sorted((Suggestion(code, text, score(label, text)) for code, text in contents.items()
                     if code not in exclude), key=lambda s: (-s.score, s.code))
    return ranked[:n]


def search_tables(client, title: str) -> list[str]:
    """v2 `GET /tables?query=` for a title's leading words: «12345 label» lines (empty when unsupported)."""
    from orchestration.ingest.ssb.client import SsbError

    if getattr(client, "api", "v2") != "v2":
        return []
    words = [w for w in _norm(re.sub(r"\(.*?\)", " ", title)).split() if len(w) > 5][:3]  # skip «etter», «eller», …
    found: dict[str, dict] = {}
    for word in words:  # one word at a time, then ranked by the whole title
        try:
            doc = client._get_json("/tables", "search", {"query": word, "lang": client.lang})
        except SsbError:
            return []
        found.update({str(t.get("id")): t for t in (doc or {}).get("tables", [])})
    ranked = sorted(found.values(), key=lambda t: -score(title, str(t.get("label", ""))))
    return [f"{t.get('id')} «{t.get('label')}» ({t.get('firstPeriod')}–{t.get('lastPeriod')})" for t in ranked[:3]]


def run(client=None, catalogue: cat.Catalogue | None = None, out: Path | None = None,
        emit: Callable[[str], None] = print) -> CheckResult:
    """Check, print, and write the proposed catalogue to `out` (default beside the warehouse)."""
    if client is None:
        from orchestration.ingest.ssb.client import SsbClient

        client = SsbClient(base_url=settings.ssb_api_url(), max_retries=settings.http_retries(),
                           backoff_base=settings.http_backoff_seconds())
    catalogue = catalogue or cat.load()
    verification = cat.verify(client, catalogue)
    result = CheckResult(verification)

    def say(line: str) -> None:
        result.lines.append(line)
        emit(line)

    gaps = {g.span: g for g in verification.gaps}
    say(f"SSB catalogue check against {verification.base_url}: {len(catalogue.tables)} tables, "
        f"{len(catalogue.spans)} configured codes ({catalogue.path})")
    for table in catalogue.tables:
        table_id = table["table_id"]
        meta = verification.metadata[table_id]
        spans = catalogue.spans_of(table_id)
        if meta.status == "missing":
            result.table_candidates[table_id] = search_tables(client, table["title"])
            say(f"✘ {table_id} {table['title']}: the table does not exist at SSB (404); "
                f"{len(spans)} configured code(s) missing")
            for cand in result.table_candidates[table_id]:
                say(f"      tables with a similar title: {cand}")
        elif meta.status == "error":
            say(f"✘ {table_id} {table['title']}: metadata unreadable: {meta.error}")
            continue
        else:
            held = meta.years
            held_text = f"{held[0]}–{held[-1]}" if held else "periods unknown"
            present = sum(1 for s in spans if s not in gaps)
            mark = "✔" if present == len(spans) else "✘"
            say(f"{mark} {table_id} {meta.label or table['title']}: holds {held_text}; "
                f"{present} of {len(spans)} configured codes present")
        used = {s.code for s in spans}
        for span in spans:
            gap = gaps.get(span)
            flag = "confirmed" if span.confirmed else "unconfirmed"
            seam = ", series break" if span.series_break else ""
            if gap is None:
                say(f"    ✔ {span.code:<22} {span.measure} {span.years_text} ({flag}{seam}) "
                    f"«{meta.contents.get(span.code, '')}»")
                continue
            say(f"    ✘ {span.code:<22} {span.measure} {span.years_text} ({flag}{seam}) «{span.label}» — missing; "
                f"indicators: {', '.join(gap.indicators) or 'none'}")
            if meta.status == "ok":
                result.suggestions[gap] = suggest(span.label, meta.contents, exclude=used - {span.code})
                for s in result.suggestions[gap]:
                    say(f"        best label match: {s}")
        if meta.status == "ok" and meta.years:
            for span in spans:
                if span.first < meta.years[0] or (span.last or meta.years[-1]) > meta.years[-1]:
                    say(f"    ! {span.code}: the catalogue takes {span.years_text} from {table_id}, which holds "
                        f"{meta.years[0]}–{meta.years[-1]}")
    result.proposed_path = write_proposed(catalogue, result, out)
    n_missing = len(verification.gaps)
    say(f"{'✔' if result.ok else '✘'} {len(catalogue.spans) - n_missing} of {len(catalogue.spans)} configured codes "
        f"found, {n_missing} missing, {len(verification.missing_tables)} table(s) not found")
    say(f"proposed catalogue for review: {result.proposed_path}")
    return result


def write_proposed(catalogue: cat.Catalogue, result: CheckResult, out: Path | None = None) -> Path:
    """The catalogue file with each gap's best match filled in (`confirmed: false`) and a `proposed:` note."""
    out = out or settings.warehouse_path().parent / "ssb_tables.proposed.yaml"
    path = catalogue.path or cat.config_path()
    doc = settings.read_yaml(path)
    verification = result.verification
    gaps = {(g.span.measure, g.span.table_id, g.span.code): g for g in verification.gaps}
    # each table code is proposed once, to the gap it matches best
    taken: dict[tuple[str, str], float] = {}
    for gap, suggestions in result.suggestions.items():
        if suggestions and suggestions[0].score >= MIN_SCORE:
            key = (gap.span.table_id, suggestions[0].code)
            taken[key] = max(taken.get(key, 0.0), suggestions[0].score)
    for measure, spec in (doc.get("measures") or {}).items():
        for entry in spec.get("series") or []:
            key = (measure, str(entry.get("table")), str(entry.get("code")))
            gap = gaps.get(key)
            meta = verification.metadata.get(key[1])
            if gap is None:
                if meta is not None and meta.status == "ok":
                    entry["seen_in_metadata"] = True
                continue
            if gap.reason == "table_missing":
                entry["proposed"] = {"was": key[2], "status": f"table {key[1]} not found at SSB (404)",
                                     "similar_tables": result.table_candidates.get(key[1], [])}
                continue
            best = (result.suggestions.get(gap) or [None])[0]
            if best is not None and best.score >= MIN_SCORE and taken.get((key[1], best.code)) == best.score:
                entry["code"] = best.code
                entry["confirmed"] = False
                entry["proposed"] = {"was": key[2], "label": best.label, "score": best.score}
            else:
                entry["proposed"] = {"was": key[2], "status": "no label matches: choose from the table's codes",
                                     "closest": [str(s) for s in result.suggestions.get(gap, [])]}
    header = (f"# PROPOSED by `boligsosial sources check` {dt.datetime.now().isoformat(timespec='seconds')} against\n"
              f"# {verification.base_url}. Review every `proposed:` entry (a label match is a guess, so the code\n"
              f"# stays confirmed: false), then copy what you accept into {path}.\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    return out
