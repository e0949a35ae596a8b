"""The synthetic world behind the demo data.

Every demo file is a view of one deterministic world: a population and a set of housing figures per
municipality of the reference (current) structure and year. Figures for earlier structures are made
by composing the reference municipalities backwards through KLASS's real code changes, so a merged
municipality's history really is the sum of its parts and harmonisation can be tested on real cases.

Nothing here is real statistics: municipality codes and names are real, every number is invented and
scaled so that national totals sit near the published figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration import settings

SEED = 20200617
FIRST_YEAR = 2008
LAST_YEAR = 2025
YEARS = list(range(FIRST_YEAR, LAST_YEAR + 1))
SYNTHETIC_NOTE = "SYNTETISKE DEMODATA – ikke offisiell statistikk (synthetic demo data, not official statistics)"

# Published national figures the demo is scaled to (docs: national_facts.csv); gaps interpolated.
NATIONAL_DWELLINGS = {2008: 96403, 2009: 100333, 2010: 100918, 2011: 101670, 2012: 102089, 2016: 108833,
                      2019: 108000, 2021: 108128, 2022: 110531, 2023: 115583, 2025: 117400}
NATIONAL_WHEELCHAIR_SHARE = {2008: 41, 2009: 43, 2010: 45, 2011: 46, 2012: 48, 2019: 49, 2021: 50, 2022: 48,
                             2023: 46, 2025: 46}
NATIONAL_VACANT = {2008: 3257, 2019: 8905, 2025: 8600}
NATIONAL_TEMP_TOTAL = {2008: 5900, 2014: 5438, 2015: 5000, 2016: 4124, 2019: 4350, 2025: 3900}
NATIONAL_TEMP_OVER_3M = {2008: 1600, 2014: 1482, 2015: 1350, 2019: 850, 2025: 700}
NATIONAL_TEMP_CHILDREN = {2008: 420, 2014: 363, 2015: 330, 2019: 238, 2025: 200}
NATIONAL_TEMP_YOUNG = {2016: 300, 2019: 640, 2025: 520}
NATIONAL_SOCIAL_WITHOUT_HOUSING = {2008: 4600, 2014: 4300, 2015: 4250, 2019: 3900, 2025: 3600}
NATIONAL_POPULATION = {2008: 4737171, 2014: 5107970, 2020: 5367580, 2026: 5610000}
NATIONAL_BOTID_YEARS = {2008: 7.2, 2014: 7.6, 2015: 7.5, 2019: 8.7, 2025: 8.9}
NATIONAL_80PLUS_IN_MUNICIPAL_CARE = {2008: 23.5, 2010: 22.8, 2019: 18.7, 2025: 17.5}

# Real populations (rounded, about 2020) of the largest municipalities, so the size classes look real.
KNOWN_POPULATIONS = {
    "Oslo": 693000, "Bergen": 284000, "Trondheim": 205000, "Stavanger": 143000, "Bærum": 127000,
    "Kristiansand": 111000, "Drammen": 101000, "Asker": 94000, "Lillestrøm": 86000, "Fredrikstad": 82000,
    "Sandnes": 80000, "Tromsø": 77000, "Ålesund": 66000, "Sandefjord": 64000, "Nordre Follo": 60000,
    "Sarpsborg": 56000, "Tønsberg": 56000, "Skien": 55000, "Bodø": 52000, "Moss": 50000, "Larvik": 47000,
    "Arendal": 45000, "Indre Østfold": 45000, "Karmøy": 42000, "Lørenskog": 42000, "Ullensaker": 39000,
    "Haugesund": 37000, "Porsgrunn": 36000, "Ringsaker": 34000, "Molde": 32000, "Halden": 31000,
    "Hamar": 31000, "Gjøvik": 30000, "Ringerike": 30000, "Lillehammer": 28000, "Kongsberg": 27000,
    "Horten": 27000, "Harstad": 25000, "Elverum": 21000, "Steinkjer": 24000, "Narvik": 22000,
}


def interpolate(points: dict[int, float], years: list[int] = YEARS) -> np.ndarray:
    xs = sorted(points)
    return np.interp(years, xs, [points[x] for x in xs])


def stable_uniform(*parts: str) -> float:
    """A number in [0, 1) that depends only on its arguments (never on run order or PYTHONHASHSEED)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class CodeChange:
    old_code: str | None
    new_code: str | None
    date: str


class DemoWorld:
    def __init__(self, klass_dir: Path | None = None, seed: int = SEED):
        self.klass_dir = klass_dir or settings.REFERENCE_DATA_DIR / "klass"
        self.seed = seed
        codes_doc = json.loads((self.klass_dir / "131_codes.json").read_text(encoding="utf-8"))
        self.codes = pd.DataFrame(
            [
                {
                    "code": c["code"],
                    "name": c["name"],
                    # validFrom/validTo are the code's own validity; the …InRequestedRange fields are clipped
                    # to the request window, which would end every current code at the window's end.
                    "valid_from": c.get("validFrom") or c.get("validFromInRequestedRange") or "1838-01-01",
                    "valid_to": c.get("validTo") or "9999-12-31",
                }
                for c in codes_doc["codes"]
            ]
        )
        changes_path = self.klass_dir / "131_changes.json"
        changes_doc = json.loads(changes_path.read_text(encoding="utf-8")) if changes_path.exists() else {}
        self.changes = [
            CodeChange(c.get("oldCode"), c.get("newCode"), c["changeOccurred"][:10])
            for c in changes_doc.get("codeChanges", [])
        ]
        self.reference_date = f"{LAST_YEAR + 1}-01-01"

    # --- structure -------------------------------------------------------------------------------

    def codes_valid_at(self, date: str) -> list[str]:
        c = self.codes
        return sorted(c[(c.valid_from <= date) & (c.valid_to > date)].code.unique())

    def name(self, code: str, date: str | None = None) -> str:
        rows = self._names.get(code, [])
        if date is not None:
            rows = [r for r in rows if r[0] <= date < r[1]] or rows
        return str(rows[-1][2]) if rows else code

    @cached_property
    def _names(self) -> dict[str, list[tuple[str, str, str]]]:
        """Per code its (valid_from, valid_to, name), by valid_from: `name` is called thousands of times."""
        out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for code, name, valid_from, valid_to in self.codes[["code", "name", "valid_from", "valid_to"]].itertuples(
                index=False):
            out[code].append((valid_from, valid_to, name))
        return {code: sorted(rows, key=lambda r: r[0]) for code, rows in out.items()}

    @cached_property
    def reference_codes(self) -> list[str]:
        return self.codes_valid_at(self.reference_date)

    def composition_at(self, date: str) -> dict[str, dict[str, float]]:
        """Each code valid at `date` as a weighted sum of reference municipalities."""
        comp: dict[str, dict[str, float]] = {c: {c: 1.0} for c in self.reference_codes}
        by_date: dict[str, list[CodeChange]] = defaultdict(list)
        for ch in self.changes:
            if date < ch.date <= self.reference_date:
                by_date[ch.date].append(ch)
        for change_date in sorted(by_date, reverse=True):
            rows = by_date[change_date]
            olds_of: dict[str, list[str]] = defaultdict(list)
            news_of: dict[str, list[str]] = defaultdict(list)
            for ch in rows:
                if ch.old_code and ch.new_code:
                    olds_of[ch.new_code].append(ch.old_code)
                    news_of[ch.old_code].append(ch.new_code)
            shares: dict[tuple[str, str], float] = {}
            for new, olds in olds_of.items():
                # In a merge the municipality that lends its name is usually the big one (Stavanger took in
                # Finnøy and Rennesøy), so it gets most of the population; other shares are a stable draw.
                new_name = self.name(new).split(" - ")[0]
                raw = {o: (6.0 if len(olds) > 1 and self.name(o).split(" - ")[0] == new_name else 0.3)
                       + stable_uniform(str(self.seed), o, new) for o in olds}
                total = sum(raw.values())
                for o in olds:
                    shares[(o, new)] = raw[o] / total
            before: dict[str, dict[str, float]] = {}
            for old, news in news_of.items():
                acc: dict[str, float] = defaultdict(float)
                for new in news:
                    for ref, w in comp.get(new, {}).items():
                        acc[ref] += w * shares[(old, new)]
                before[old] = dict(acc)
            for new in olds_of:
                comp.pop(new, None)
            for ch in rows:  # codes that ceased without successor, or were created without predecessor
                if ch.new_code and not ch.old_code:
                    comp.pop(ch.new_code, None)
            comp.update(before)
        return {c: w for c, w in comp.items() if w}

    def weights_matrix(self, date: str) -> tuple[list[str], np.ndarray]:
        """Codes valid at `date` and the matrix mapping reference municipalities onto them (kept per date:
        every measure of a year is reported on the same structure)."""
        cache = self.__dict__.setdefault("_weights_by_date", {})
        if date not in cache:
            cache[date] = self._weights_matrix(date)
        return cache[date]

    def _weights_matrix(self, date: str) -> tuple[list[str], np.ndarray]:
        comp = self.composition_at(date)
        codes = sorted(comp)
        index = {c: i for i, c in enumerate(self.reference_codes)}
        matrix = np.zeros((len(codes), len(self.reference_codes)))
        for row, code in enumerate(codes):
            for ref, w in comp[code].items():
                matrix[row, index[ref]] = w
        return codes, matrix

    # --- the invented figures, per reference municipality and year --------------------------------

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)])

    @cached_property
    def base_population(self) -> np.ndarray:
        """Population of the reference municipalities in 2020."""
        rng = self.rng("population")
        n = len(self.reference_codes)
        pop = np.exp(rng.normal(np.log(3300), 1.0, n)).clip(180, 16000)
        for i, code in enumerate(self.reference_codes):
            # KLASS names bilingual municipalities "Trondheim - Tråante": match on the Norwegian part
            known = KNOWN_POPULATIONS.get(self.name(code, self.reference_date).split(" - ")[0])
            if known:
                pop[i] = known
        return pop * (NATIONAL_POPULATION[2020] / pop.sum())

    @cached_property
    def population(self) -> pd.DataFrame:
        """Population on 1 January, years FIRST_YEAR..LAST_YEAR+1 (rows: reference codes)."""
        years = list(range(FIRST_YEAR, LAST_YEAR + 2))
        size = np.log10(self.base_population)
        growth = 0.012 * (size - 3.6) + self.rng("growth").normal(0, 0.004, len(size))
        raw = self.base_population[:, None] * (1 + growth[:, None]) ** (np.array(years) - 2020)[None, :]
        target = interpolate(NATIONAL_POPULATION, years)
        return pd.DataFrame(np.round(raw * target / raw.sum(axis=0)), index=self.reference_codes, columns=years)

    @cached_property
    def population_80_plus(self) -> pd.DataFrame:
        size = np.log10(self.base_population)
        share = (0.058 - 0.006 * (size - 3.6) + self.rng("share80").normal(0, 0.006, len(size))).clip(0.02, 0.09)
        years = np.array(self.population.columns)
        ageing = 1 + 0.012 * np.clip(years - 2017, 0, None)
        return np.round(self.population * share[:, None] * ageing[None, :])

    def _scaled(self, name: str, weights: np.ndarray, national: dict[int, float], noise: float = 0.05) -> pd.DataFrame:
        """Spread national totals over municipalities by weight, with municipal noise; integers."""
        rng = self.rng(name)
        w = weights * np.exp(rng.normal(0, noise, weights.shape))
        target = interpolate(national)
        values = w / w.sum(axis=0, keepdims=True) * target[None, :]
        return pd.DataFrame(np.round(values), index=self.reference_codes, columns=YEARS)

    @cached_property
    def figures(self) -> dict[str, pd.DataFrame]:
        """Count measures per reference municipality × year, canonical names as in ssb_tables.yaml."""
        pop = self.population[YEARS].to_numpy()
        n = len(self.reference_codes)
        size = np.log10(self.base_population)
        rng = self.rng("propensities")
        housing_rate = np.exp(rng.normal(0, 0.28, n)) * (1 + 0.12 * (3.6 - size).clip(-1, 1))
        urban = ((size - 3.0) / 2.0).clip(0.05, 1.6) ** 2.2  # temporary accommodation concentrates in cities

        f: dict[str, pd.DataFrame] = {}
        total = self._scaled("dwellings_total", pop * housing_rate[:, None], NATIONAL_DWELLINGS, 0.03)
        f["dwellings_total"] = total
        owned_share = (0.78 + rng.normal(0, 0.06, n)).clip(0.45, 0.97)
        rented_share = ((1 - owned_share) * (0.55 + rng.normal(0, 0.1, n))).clip(0, None)
        f["dwellings_owned"] = np.round(total.mul(owned_share, axis=0))
        f["dwellings_rented"] = np.round(total.mul(rented_share, axis=0)).clip(upper=total - f["dwellings_owned"])
        f["dwellings_private_disposal"] = total - f["dwellings_owned"] - f["dwellings_rented"]
        user_owned = (0.35 + rng.normal(0, 0.12, n)).clip(0.0, 0.9)
        f["dwellings_user_owned_disposal"] = np.floor(f["dwellings_private_disposal"].mul(user_owned, axis=0))
        vacant = self._scaled("vacant", total.to_numpy(), NATIONAL_VACANT, 0.35)
        f["dwellings_vacant"] = vacant.clip(upper=total)
        share_wheel = interpolate(NATIONAL_WHEELCHAIR_SHARE) / 100
        wheel = self._scaled("wheelchair", total.to_numpy() * (0.7 + 0.3 * rng.random(n))[:, None],
                             dict(zip(YEARS, share_wheel * total.sum().to_numpy())), 0.08)
        f["dwellings_wheelchair"] = wheel.clip(upper=total)
        botid = interpolate(NATIONAL_BOTID_YEARS)
        moved = self._scaled("moved_in", total.to_numpy(), dict(zip(YEARS, total.sum().to_numpy() / botid)), 0.15)
        f["households_newly_moved_in"] = moved.clip(lower=0)
        temp_w = pop * urban[:, None]
        f["temp_households_total"] = self._scaled("temp_total", temp_w, NATIONAL_TEMP_TOTAL, 0.45)
        f["temp_households_over_3_months"] = self._scaled("temp_3m", temp_w, NATIONAL_TEMP_OVER_3M, 0.5).clip(
            upper=f["temp_households_total"])
        f["temp_households_children"] = self._scaled("temp_children", temp_w, NATIONAL_TEMP_CHILDREN, 0.5).clip(
            upper=f["temp_households_total"])
        young = self._scaled("temp_young", temp_w, {**NATIONAL_TEMP_YOUNG, 2008: 260}, 0.5).clip(
            upper=f["temp_households_total"])
        young.loc[:, [y for y in YEARS if y < 2016]] = np.nan  # reported from 2016 only
        f["temp_households_young"] = young
        # night shelter is counted apart from temporary accommodation; 12008 from 2015 only
        f["temp_households_night_shelter"] = self._scaled("night_shelter", temp_w, {2008: 900, 2019: 700, 2025: 650}, 0.6)
        # newly moved-in with mental illness and/or substance abuse (SSB publishes the share); the waiting list
        # of that group is reported from 2020 (KOSventelistepsy0001)
        f["households_newly_moved_in_substance_mental"] = np.round(f["households_newly_moved_in"] * (
            0.22 + 0.04 * self.rng("moved_in_psy").random(n))[:, None])
        waiting = self._scaled("waiting_psy", temp_w + pop * 0.05, {2008: 1600, 2025: 1900}, 0.4)
        waiting.loc[:, [y for y in YEARS if y < 2020]] = np.nan
        f["waiting_list_substance_mental"] = waiting
        f["social_assistance_without_housing"] = self._scaled("sos_without", temp_w, NATIONAL_SOCIAL_WITHOUT_HOUSING, 0.4)
        f["social_assistance_recipients"] = self._scaled("sos_all", pop, dict(zip(YEARS, [128000.0] * len(YEARS))), 0.2)
        has_allowance = rng.random(n) < 0.35
        allowance = self._scaled("kommunal_bostotte", pop * (urban[:, None] + 0.05), {2008: 9000, 2025: 8000}, 0.3)
        allowance.loc[~has_allowance, :] = 0
        f["municipal_housing_allowance_households"] = allowance
        care = np.round(total.mul((0.47 + rng.normal(0, 0.08, n)).clip(0.1, 0.8), axis=0))
        f["care_dwellings"] = care
        f["care_dwelling_residents"] = np.round(care * (0.9 + 0.05 * rng.random((n, 1))))
        pop80 = self.population_80_plus[YEARS]
        share80 = interpolate(NATIONAL_80PLUS_IN_MUNICIPAL_CARE) / 100
        in_care = self._scaled("care80", pop80.to_numpy(), dict(zip(YEARS, share80 * pop80.sum().to_numpy())), 0.1)
        f["residents_80plus_municipal_dwellings"] = np.round(in_care * 0.35)
        f["residents_80plus_nursing_homes"] = in_care - f["residents_80plus_municipal_dwellings"]

        late = [y for y in YEARS if y >= 2022]
        f["dwellings_wheelchair"].loc[self.wheelchair_drop_codes, late] = np.round(
            f["dwellings_wheelchair"].loc[self.wheelchair_drop_codes, late] * 0.4)
        return f

    # --- the inconsistencies planted for the quality checks to find --------------------------------

    def _pick(self, name: str, candidates: list[str], count: int) -> list[str]:
        return sorted(sorted(candidates, key=lambda c: stable_uniform(str(self.seed), name, c))[:count])

    @cached_property
    def wheelchair_drop_codes(self) -> list[str]:
        """Small and medium municipalities whose wheelchair count collapses in 2022 (misreporting)."""
        pop = self.population[2022]
        return self._pick("wheelchair_drop", list(pop[(pop > 2000) & (pop < 20000)].index), 4)

    # --- the figures as a given year reported them --------------------------------------------------

    def as_reported(self, frame: pd.DataFrame, year: int, date: str | None = None) -> pd.Series:
        """A reference-structure measure for `year`, on the codes valid on `date` (default: 31 Dec)."""
        codes, matrix = self.weights_matrix(date or f"{year}-12-31")
        column = frame[year].to_numpy(dtype=float)
        values = matrix @ np.nan_to_num(column, nan=0.0)
        if np.isnan(column).all():
            values[:] = np.nan
        return pd.Series(np.round(values), index=codes)

    @cached_property
    def size_class_2019(self) -> pd.Series:
        pop = self.as_reported(self.population, 2020, "2019-12-31")
        return pd.cut(pop, [0, 4999, 19999, np.inf], labels=["small", "medium", "large"]).astype(str)

    @cached_property
    def programme_municipalities(self) -> pd.DataFrame:
        """70 municipalities (2019 codes) as in the report: 35 large, 31 medium, 4 small."""
        size = self.size_class_2019
        pop = self.as_reported(self.population, 2020, "2019-12-31")
        chosen: list[tuple[str, str]] = []
        for cls, count, programme in (("large", 35, "storby"), ("medium", 31, "by- og tettsted"),
                                      ("small", 4, "by- og tettsted")):
            members = pop[size == cls]
            if cls == "large":  # the largest cities are certainly in; then by a stable draw
                picked = list(members.sort_values(ascending=False).index[:count])
            else:
                order = sorted(members.index, key=lambda c: stable_uniform(str(self.seed), "programme", c))
                picked = order[:count]
            chosen += [(c, programme if cls != "large" or pop[c] >= 50000 else "by- og tettsted") for c in picked]
        return pd.DataFrame(
            [{"municipality_code": c, "municipality_name": self.name(c, "2019-12-31"), "programme": p,
              "size_class_2019": size[c], "valid_from_year": 2016, "valid_to_year": 2020} for c, p in chosen]
        ).sort_values("municipality_code").reset_index(drop=True)

    def generated_at(self) -> str:
        """A fixed timestamp: the demo files must be byte-identical on every generation."""
        return dt.datetime(2026, 6, 15, 6, 0, tzinfo=dt.timezone.utc).isoformat()
