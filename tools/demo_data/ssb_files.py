"""Demo files for SSB's statistics API: json-stat2 datasets exactly as the data endpoint answers.

Layout (mirrors the API, one folder per table):
    ssb/<table_id>/table.json                    GET /tables/{id}   (carries `updated`)
    ssb/<table_id>/data__<query>.json            GET /tables/{id}/data?...&outputFormat=json-stat2
    ssb/<table_id>/vintages/<date>/…             an earlier release (KOSTRA's unrevised 15 March figures)
Old and new municipality codes stand side by side, as in KOSTRA tables; a code's years outside its
validity carry the status `.` (not applicable). Small counts are suppressed with `:`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tools.demo_data.world import LAST_YEAR, SYNTHETIC_NOTE, YEARS, DemoWorld, stable_uniform

REVISED_UPDATED = f"{LAST_YEAR + 1}-06-15T06:00:00Z"
UNREVISED_UPDATED = f"{LAST_YEAR + 1}-03-15T06:00:00Z"
POPULATION_UPDATED = f"{LAST_YEAR + 1}-02-21T07:00:00Z"
# KOSTRA suppresses small housing cells (< 3) and care cells (< 5).
SUPPRESS_BELOW = {"temp_households_total": 3, "temp_households_over_3_months": 3, "temp_households_children": 3,
                  "temp_households_young": 3, "social_assistance_without_housing": 3,
                  "care_dwelling_residents": 5, "residents_80plus_municipal_dwellings": 5,
                  "residents_80plus_nursing_homes": 5}
# The shares SSB publishes beside the counts: measure -> (part, whole) of the world's figures, × 100.
SHARES = {"wheelchair_share_published": ("dwellings_wheelchair", "dwellings_total"),
          "owned_share_published": ("dwellings_owned", "dwellings_total"),
          "newly_moved_in_substance_mental_share_published": ("households_newly_moved_in_substance_mental",
                                                              "households_newly_moved_in")}
AGES_80_PLUS = [f"{a:03d}" for a in range(80, 105)] + ["105+"]


# Oslo's city districts (bydeler) as KOSTRA tables list them beside the municipalities: 6-digit codes.
OSLO = "0301"
OSLO_DISTRICTS = {
    "030101": "Gamle Oslo", "030102": "Grünerløkka", "030103": "Sagene", "030104": "St. Hanshaugen",
    "030105": "Frogner", "030106": "Ullern", "030107": "Vestre Aker", "030108": "Nordre Aker", "030109": "Bjerke",
    "030110": "Grorud", "030111": "Stovner", "030112": "Alna", "030113": "Østensjø", "030114": "Nordstrand",
    "030115": "Søndre Nordstrand",
}


def load_table_config(path: Path | None = None) -> list[dict]:
    from orchestration.ingest.ssb.catalogue import load_tables

    return load_tables(path)


def table_years(table: dict) -> list[int]:
    """The statistics years the catalogue takes from this table: its generation's span."""
    spans = table["contents"].values()
    return [y for y in YEARS if any(y >= s["first_year"] and (s["last_year"] is None or y <= s["last_year"])
                                    for s in spans)]


def _dataset(table: dict, dims: list[tuple[str, str, list[str], dict[str, str]]], values: np.ndarray,
             status: dict[int, str], updated: str, units: dict[str, tuple[str, int]]) -> dict:
    dimension = {}
    for dim_id, label, codes, labels in dims:
        category: dict = {"index": {c: i for i, c in enumerate(codes)}, "label": {c: labels.get(c, c) for c in codes}}
        if dim_id == "ContentsCode":
            category["unit"] = {c: {"base": units[c][0], "decimals": units[c][1]} for c in codes}
        dimension[dim_id] = {"label": label, "category": category}
    flat = values.reshape(-1)
    return {
        "class": "dataset",
        "label": f"{table['table_id']}: {table['title']} [{SYNTHETIC_NOTE}]",
        "source": "Statistisk sentralbyrå (SYNTETISKE DEMODATA)",
        "updated": updated,
        "note": [SYNTHETIC_NOTE],
        "id": [d[0] for d in dims],
        "size": [len(d[2]) for d in dims],
        "dimension": dimension,
        "value": [None if np.isnan(v) else (int(v) if float(v).is_integer() else round(float(v), 1)) for v in flat],
        "status": {str(k): v for k, v in sorted(status.items())},
        "role": {"time": ["Tid"], "metric": ["ContentsCode"], "geo": [dims[0][0]]},
        "version": "2.0",
        "extension": {"px": {"infofile": "None", "tableid": table["table_id"], "decimals": 1,
                             "official-statistics": False, "language": "no", "synthetic": True}},
    }


def _table_info(table: dict, updated: str, first: int, last: int) -> dict:
    return {
        "language": "no", "id": table["table_id"], "label": f"{table['table_id']}: {table['title']}",
        "description": SYNTHETIC_NOTE, "updated": updated, "firstPeriod": str(first), "lastPeriod": str(last),
        "category": "public", "source": "Statistisk sentralbyrå (SYNTETISKE DEMODATA)", "timeUnit": "Annual",
        "links": [],
    }


class SsbDemoWriter:
    def __init__(self, world: DemoWorld):
        self.world = world
        self.figures = dict(world.figures)
        self._reported_cache: dict[tuple[str, int], pd.Series] = {}
        self._plant_bostotte_confusion()

    def _plant_bostotte_confusion(self) -> None:
        """A few municipalities report Husbanken's statlig bostøtte as their kommunal bostøtte (±1 %)."""
        from tools.demo_data.husbanken_files import confused_bostotte_municipalities, statlig_bostotte_yearly

        statlig = statlig_bostotte_yearly(self.world)
        codes = confused_bostotte_municipalities(self.world)
        allowance = self.figures["municipal_housing_allowance_households"].copy()
        years = [y for y in statlig.columns if y in allowance.columns]
        allowance.loc[codes, years] = np.round(statlig.loc[codes, years] * 1.01)
        self.figures["municipal_housing_allowance_households"] = allowance

    def _kostra_values(self, measure: str, year: int, pop_next: pd.Series) -> pd.Series:
        f = self.figures
        def rep(measure: str) -> pd.Series:
            return self._reported(measure, year)

        if measure == "dwellings_per_1000_published":
            return (rep("dwellings_total") / pop_next * 1000).round(1)
        if measure in SHARES:
            part, whole = SHARES[measure]
            return (rep(part) / rep(whole) * 100).round(1)
        return rep(measure)

    def write_kostra_table(self, table: dict, out: Path) -> list[Path]:
        measures = {code: spec["measure"] for code, spec in table["contents"].items()}
        units = {code: ("prosent" if spec["kind"] == "ratio" and "share" in spec["measure"] else
                        "per 1000" if spec["kind"] == "ratio" else "antall", 1 if spec["kind"] == "ratio" else 0)
                 for code, spec in table["contents"].items()}
        years = table_years(table)
        per_year: dict[int, dict[str, pd.Series]] = {}
        self._pop_next: dict[int, pd.Series] = {}
        for year in years:
            pop_next = self.world.as_reported(self.world.population, year + 1, f"{year}-12-31")
            self._pop_next[year] = pop_next
            per_year[year] = {code: self._kostra_values(m, year, pop_next) for code, m in measures.items()}
        municipalities = sorted({c for y in per_year.values() for s in y.values() for c in s.index})
        counties = sorted({f"EKA{c[:2]}" for c in municipalities})
        # KOSTRA lists Oslo's districts and the aggregates beside the municipalities (never to be summed)
        regions = municipalities + list(OSLO_DISTRICTS) + ["EAK", "EAKUO"] + counties
        written = self._write_release(table, out, regions, list(measures), years, per_year, units, REVISED_UPDATED)
        if LAST_YEAR not in years:  # an ended table generation has no new release
            return written
        # The unrevised 15 March release of the latest year: the same figures before SSB's revision round.
        rng = self.world.rng(f"unrevised-{table['table_id']}")
        unrevised = {LAST_YEAR: {code: s.where(s.isna(), np.round(s * (1 + rng.normal(0, 0.03, len(s)))))
                                 if table["contents"][code]["kind"] == "count" else s
                                 for code, s in per_year[LAST_YEAR].items()}}
        written += self._write_release(table, out / "vintages" / UNREVISED_UPDATED[:10], regions, list(measures),
                                       [LAST_YEAR], unrevised, units, UNREVISED_UPDATED)
        return written

    def _aggregates(self, code: str, measure: str, kind: str, year: int, series: pd.Series) -> dict[str, float]:
        """EAKUO, EKAxx and Oslo's districts for one measure and year (EAK stays the national figure)."""
        members = {"EAKUO": [c for c in series.index if c != OSLO]}
        for c in series.index:
            members.setdefault(f"EKA{c[:2]}", []).append(c)
        out: dict[str, float] = {}
        for region, codes in members.items():
            if kind == "count":
                out[region] = series[codes].sum(min_count=1)
            else:
                out[region] = self._ratio_of(measure, year, codes)
        oslo = series.get(OSLO, np.nan)
        for district in OSLO_DISTRICTS:  # ratios have no district denominators here: '..'
            share = 0.04 + 0.08 * stable_uniform("oslo-district", district)
            out[district] = np.round(oslo * share) if kind == "count" else np.nan
        return out

    def _reported(self, name: str, year: int) -> pd.Series:
        key = (name, year)
        if key not in self._reported_cache:  # composing the year's structure is slow: once per measure and year
            self._reported_cache[key] = self.world.as_reported(self.figures[name], year)
        return self._reported_cache[key]

    def _ratio_of(self, measure: str, year: int, codes: list[str]) -> float:
        def rep(name: str) -> float:
            return float(self._reported(name, year)[codes].sum())

        if measure == "dwellings_per_1000_published":
            return round(rep("dwellings_total") / float(self._pop_next[year][codes].sum()) * 1000, 1)
        part, whole = SHARES[measure]
        return round(rep(part) / rep(whole) * 100, 1)

    def _write_release(self, table, out, regions, codes, years, per_year, units, updated) -> list[Path]:
        values = np.full((len(regions), len(codes), len(years)), np.nan)
        status: dict[int, str] = {}
        contents = table["contents"]
        for ti, year in enumerate(years):
            for ci, code in enumerate(codes):
                series = per_year[year][code]
                measure = contents[code]["measure"]
                kind = contents[code]["kind"]
                first, last = contents[code]["first_year"], contents[code]["last_year"]
                if year < first or (last is not None and year > last):  # a redefined code (…0000 → …0001)
                    for ri in range(len(regions)):                       # holds only its own years
                        status[(ri * len(codes) + ci) * len(years) + ti] = ".."
                    continue
                national = series.sum(min_count=1) if kind == "count" else self._national_ratio(measure, year)
                aggregates = self._aggregates(code, measure, kind, year, series)
                for ri, region in enumerate(regions):
                    municipal = len(region) == 4 and region.isdigit()
                    v = (national if region == "EAK" else series.get(region, np.nan) if municipal
                         else aggregates.get(region, np.nan))
                    pos = (ri * len(codes) + ci) * len(years) + ti
                    if municipal and region not in series.index or region.startswith("EKA") and region not in aggregates:
                        status[pos] = "."
                    elif v is None or np.isnan(v):
                        status[pos] = ".."
                    elif not region.startswith("EA") and region[:3] != "EKA" and 0 < v < SUPPRESS_BELOW.get(measure, 0):
                        status[pos] = ":"
                    else:
                        values[ri, ci, ti] = v
        names = ({r: self.world.name(r) for r in regions if len(r) == 4} | OSLO_DISTRICTS
                 | {"EAK": "Landet", "EAKUO": "Landet uten Oslo"}
                 | {r: f"Fylke {r[3:]} (KOSTRA-aggregat)" for r in regions if r.startswith("EKA")})
        dims = [
            (table["region_dimension"], "region", regions, names),
            ("ContentsCode", "statistikkvariabel", codes, {c: contents[c]["label"] for c in codes}),
            ("Tid", "år", [str(y) for y in years], {}),
        ]
        doc = _dataset(table, dims, values, status, updated, units)
        return self._dump(out, table, doc, updated, years)

    def _national_ratio(self, measure: str, year: int) -> float:
        f = self.figures
        if measure == "dwellings_per_1000_published":
            return round(f["dwellings_total"][year].sum() / self.world.population[year + 1].sum() * 1000, 1)
        part, whole = SHARES[measure]
        return round(f[part][year].sum() / f[whole][year].sum() * 100, 1)

    def _dump(self, out: Path, table: dict, doc: dict, updated: str, years: list[int], query: str | None = None) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        query = query or table["queries"][0]["name"]
        data_path = out / f"data__{query}.json"
        data_path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        info_path = out / "table.json"
        info_path.write_text(json.dumps(_table_info(table, updated, years[0], years[-1]), ensure_ascii=False, indent=2),
                             encoding="utf-8")
        return [info_path, data_path]

    def write_population(self, table: dict, out: Path) -> list[Path]:
        years = YEARS + [LAST_YEAR + 1]
        per_year = {y: self.world.as_reported(self.world.population, y, f"{y}-01-01") for y in years}
        per_year_80 = {y: self.world.as_reported(self.world.population_80_plus, y, f"{y}-01-01") for y in years}
        regions = sorted({c for s in per_year.values() for c in s.index})
        names = {r: self.world.name(r) for r in regions}
        units = {"Personer1": ("personer", 0)}
        written: list[Path] = []
        for query in table["queries"]:
            ages = AGES_80_PLUS if query["name"] == "age_80_plus" else None
            # 80+ spread over single years of age with a falling profile, as the real table has them
            profile = np.exp(-0.22 * np.arange(len(AGES_80_PLUS))) if ages else np.array([1.0])
            profile = profile / profile.sum()
            values = np.full((len(regions), len(profile), 1, len(years)), np.nan)
            status: dict[int, str] = {}
            for ti, y in enumerate(years):
                source = per_year_80[y] if ages else per_year[y]
                for ri, r in enumerate(regions):
                    if r in source.index:
                        values[ri, :, 0, ti] = np.round(source[r] * profile) if ages else source[r]
            for ri, r in enumerate(regions):
                for ai in range(len(profile)):
                    for ti, y in enumerate(years):
                        if np.isnan(values[ri, ai, 0, ti]):
                            status[((ri * len(profile) + ai) * 1 + 0) * len(years) + ti] = "."
            dims = [("Region", "region", regions, names)]
            if ages:
                dims.append(("Alder", "alder", ages, {a: f"{a} år" for a in ages}))
            dims += [("ContentsCode", "statistikkvariabel", ["Personer1"], {"Personer1": "Personer"}),
                     ("Tid", "år", [str(y) for y in years], {})]
            shape = [len(d[2]) for d in dims]
            doc = _dataset(table, dims, values.reshape(shape), status, POPULATION_UPDATED, units)
            written += self._dump(out, table, doc, POPULATION_UPDATED, years, query["name"])
        return written

    def write(self, out_dir: Path) -> list[Path]:
        written: list[Path] = []
        for table in load_table_config():
            target = out_dir / table["table_id"]
            if table["key"] == "population":
                written += self.write_population(table, target)
            else:
                written += self.write_kostra_table(table, target)
        return written


def write(world: DemoWorld, out_dir: Path) -> list[Path]:
    return SsbDemoWriter(world).write(out_dir)
