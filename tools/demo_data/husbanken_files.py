"""Demo Husbanken exports: what the data team would download from Husbanken's Qlik app.

- one yearly xlsx per instrument, 2008–2025 (`startlan_2008-2025.xlsx`, …), a data sheet shaped like a
  Qlik table export plus a «Merknad» sheet, and the synthetic note in the document properties;
- a monthly csv of statlig bostøtte, 2019–2025 (`statlig_bostotte_maned_2019-2025.csv`, `;`-separated,
  UTF-8 with BOM, decimal comma), whose `Merknad` column marks every row synthetic (the full note on
  the first row, «SYNTETISKE DEMODATA» on the others; a comment line would not be a Husbanken export).

Every figure is invented (see `world.py`), scaled to the published national levels: about 8 800
households got startlån in 2014 and 6 905 in 2017, about 60 % of them families with children;
tilvisningsavtaler about 486 dwellings in 2019, in large municipalities only; household counts under 4
are suppressed as "<4". Each year's rows use the municipality codes valid that year.

Planted for the data-quality checks: for three municipalities that also pay kommunal bostøtte,
`confused_bostotte_municipalities(world)`, the lead makes KOSTRA's kommunal bostøtte equal to our
statlig bostøtte (±1 %), the confusion the SSB working group describes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from tools.demo_data.world import SYNTHETIC_NOTE, DemoWorld, interpolate, stable_uniform
from tools.demo_data.workbook import write_workbook_deterministic
from orchestration.ingest.files.inbox import SYNTHETIC_MARKER

SOURCE_DIR = "husbanken"
YEARS = list(range(2008, 2026))
MONTHLY_YEARS = list(range(2019, 2026))

# National levels (interpolated between the points); startlån from the report, the rest invented
# around the report's descriptions (utleieboliger ~1 900 in 2016 → ~400 in 2019, and so on).
NATIONAL_STARTLAN = {2008: 9400, 2011: 10100, 2014: 8800, 2016: 7500, 2017: 6905, 2019: 6400, 2021: 6900,
                     2023: 5200, 2025: 5600}
NATIONAL_ETABLERING = {2008: 3100, 2014: 2700, 2017: 2200, 2019: 1900, 2025: 1500}
NATIONAL_UTLEIE = {2008: 1300, 2012: 1100, 2014: 1400, 2016: 1900, 2017: 1200, 2019: 420, 2025: 350}
NATIONAL_CARE = {2008: 1500, 2010: 1000, 2014: 2000, 2017: 3000, 2018: 1900, 2019: 2100, 2025: 1600}
NATIONAL_NURSING = {2008: 900, 2010: 700, 2014: 1500, 2017: 2200, 2018: 1300, 2019: 1400, 2025: 1200}
NATIONAL_TILVISNING = {2013: 40, 2015: 210, 2017: 360, 2019: 486, 2021: 530, 2025: 600}
NATIONAL_BOSTOTTE = {2019: 95000, 2020: 93000, 2021: 88000, 2022: 104000, 2023: 112000, 2024: 101000, 2025: 97000}
CHILDREN_SHARE_STARTLAN = {2008: 0.53, 2014: 0.59, 2017: 0.64, 2025: 0.65}
CHILDREN_SHARE_ETABLERING = {2008: 0.42, 2014: 0.47, 2017: 0.53, 2019: 0.60, 2025: 0.61}


def _spread(world: DemoWorld, name: str, weights: np.ndarray, national: dict[int, float], years: list[int],
            noise: float, active: np.ndarray | None = None) -> pd.DataFrame:
    """National totals spread over the reference municipalities by weight (rows: reference codes)."""
    rng = world.rng(f"husbanken:{name}")
    w = weights * np.exp(rng.normal(0, noise, weights.shape))
    if active is not None:
        w = w * active
    target = np.interp(years, sorted(national), [national[k] for k in sorted(national)])
    target = np.where(np.array(years) < min(national), 0.0, target)
    values = w / np.where(w.sum(axis=0) > 0, w.sum(axis=0), 1)[None, :] * target[None, :]
    return pd.DataFrame(values, index=world.reference_codes, columns=years)


def _lumpy(world: DemoWorld, name: str, years: list[int], propensity: np.ndarray) -> np.ndarray:
    """Which municipality gets a grant in which year: large ones often, small ones now and then."""
    draw = world.rng(f"husbanken:{name}:active").random((len(world.reference_codes), len(years)))
    return (draw < propensity[:, None]).astype(float)


def weights_at(world: DemoWorld, year: int) -> tuple[list[str], np.ndarray]:
    """The codes valid at the end of `year` and the matrix mapping reference municipalities onto them (the
    world keeps it per date)."""
    return world.weights_matrix(f"{year}-12-31")


@lru_cache(maxsize=64)
def names_at(world: DemoWorld, year: int) -> dict[str, str]:
    """Code → name at the end of `year` (one table lookup instead of one per row)."""
    date = f"{year}-12-31"
    c = world.codes
    at = c[(c.valid_from <= date) & (c.valid_to > date)].sort_values("valid_from")
    names = dict(zip(at.code, at.name))
    return {code: names.get(code) or world.name(code, date) for code in weights_at(world, year)[0]}


def _reported(world: DemoWorld, frame: pd.DataFrame, year: int) -> pd.Series:
    """A reference-level measure on the codes valid in `year` (without rounding)."""
    codes, matrix = weights_at(world, year)
    return pd.Series(matrix @ frame[year].to_numpy(dtype=float), index=codes)


def _count(value: float) -> int:
    return int(round(value))


# False only for tools/demo_data/truth.py: the same rows before Husbanken hides its small counts.
SUPPRESS = True


def _suppressed(count: int) -> int | str:
    """Husbanken hides household counts under 4."""
    return "<4" if SUPPRESS and 0 < count < 4 else count


def _share(world: DemoWorld, name: str, code: str, year: int, centre: float, spread: float) -> float:
    u = stable_uniform(str(world.seed), name, code, str(year))
    return float(np.clip(centre + (u - 0.5) * 2 * spread, 0.0, 1.0))


def _population(world: DemoWorld, years: list[int]) -> np.ndarray:
    return world.population[years].to_numpy(dtype=float)


# --- the yearly instruments -----------------------------------------------------------------------


def startlan_rows(world: DemoWorld) -> list[list]:
    pop = _population(world, YEARS)
    propensity = np.exp(world.rng("husbanken:startlan:propensity").normal(0, 0.35, len(pop)))
    households = _spread(world, "startlan", pop * propensity[:, None], NATIONAL_STARTLAN, YEARS, 0.25)
    children_share = dict(zip(YEARS, interpolate(CHILDREN_SHARE_STARTLAN, YEARS)))
    rows = []
    for year in YEARS:
        for code, total in _reported(world, households, year).items():
            total = _count(total)
            if total == 0:
                continue
            refinancing = _count(total * _share(world, "startlan:refi", code, year, 0.16, 0.08))
            loan = 1_050_000 + 55_000 * (year - 2008)
            for purpose, count in (("Kjøp av bolig", total - refinancing), ("Refinansiering", refinancing)):
                if count == 0:
                    continue
                share = children_share[year] * (1.0 if purpose.startswith("Kjøp") else 0.8)
                children = min(count, _count(count * _share(world, f"startlan:children:{purpose}", code, year,
                                                            share, 0.12)))
                amount = round(count * loan * (0.8 + 0.4 * stable_uniform("startlan:amount", code, str(year))), -3)
                rows.append([code, names_at(world, year)[code], year, purpose, _suppressed(count),
                             _suppressed(children), int(amount)])
    return rows


def etablering_rows(world: DemoWorld) -> list[list]:
    pop = _population(world, YEARS)
    households = _spread(world, "etablering", pop, NATIONAL_ETABLERING, YEARS, 0.35)
    children_share = dict(zip(YEARS, interpolate(CHILDREN_SHARE_ETABLERING, YEARS)))
    rows = []
    for year in YEARS:
        for code, total in _reported(world, households, year).items():
            total = _count(total)
            if total == 0:
                continue
            children = min(total, _count(total * _share(world, "etablering:children", code, year,
                                                        children_share[year], 0.15)))
            amount = round(total * (130_000 + 4_000 * (year - 2008)), -3)
            rows.append([code, names_at(world, year)[code], year, _suppressed(total), _suppressed(children),
                         int(amount)])
    return rows


def utleie_rows(world: DemoWorld) -> list[list]:
    pop = _population(world, YEARS)
    size = np.log10(world.base_population)
    active = _lumpy(world, "utleie", YEARS, np.clip(0.08 + 0.25 * (size - 3.0), 0.05, 0.95))
    dwellings = _spread(world, "utleie", pop, NATIONAL_UTLEIE, YEARS, 0.5, active)
    rows = []
    for year in YEARS:
        for code, value in _reported(world, dwellings, year).items():
            count = _count(value)
            if count:
                rows.append([code, names_at(world, year)[code], year, count,
                             int(round(count * (520_000 + 12_000 * (year - 2008)), -3))])
    return rows


def investering_rows(world: DemoWorld) -> list[list]:
    pop80 = world.population_80_plus[YEARS].to_numpy(dtype=float)
    size = np.log10(world.base_population)
    propensity = np.clip(0.06 + 0.2 * (size - 3.0), 0.04, 0.9)
    care = _spread(world, "care", pop80, NATIONAL_CARE, YEARS, 0.5, _lumpy(world, "care", YEARS, propensity))
    nursing = _spread(world, "nursing", pop80, NATIONAL_NURSING, YEARS, 0.5,
                      _lumpy(world, "nursing", YEARS, propensity * 0.8))
    rows = []
    for year in YEARS:
        care_y, nursing_y = _reported(world, care, year), _reported(world, nursing, year)
        for code, c, n in zip(care_y.index, map(_count, care_y), map(_count, nursing_y)):
            if c or n:
                rows.append([code, names_at(world, year)[code], year, c, n,
                             int(round((c * 1_150_000 + n * 1_600_000) * (1 + 0.02 * (year - 2008)), -3))])
    return rows


def tilvisning_rows(world: DemoWorld) -> list[list]:
    years = [y for y in YEARS if y >= 2013]
    pop = _population(world, years)
    large = (world.base_population >= 20000).astype(float)
    active = _lumpy(world, "tilvisning", years, 0.45 * large)
    dwellings = _spread(world, "tilvisning", pop, NATIONAL_TILVISNING, years, 0.6, active)
    rows = []
    for year in years:
        for code, value in _reported(world, dwellings, year).items():
            count = _count(value)
            if count:
                rows.append([code, names_at(world, year)[code], year, count,
                             int(round(count * 2_400_000 * (1 + 0.03 * (year - 2013)), -3))])
    return rows


YEARLY_FILES: list[tuple[str, str, list[str], Callable[[DemoWorld], list[list]]]] = [
    ("startlan_2008-2025.xlsx", "Startlån",
     ["Kommunenummer", "Kommune", "År", "Formål", "Antall husstander", "Herav barnefamilier", "Utbetalt beløp (kr)"],
     startlan_rows),
    ("tilskudd_til_etablering_2008-2025.xlsx", "Tilskudd til etablering",
     ["Kommunenummer", "Kommune", "År", "Antall husstander", "Herav barnefamilier", "Utbetalt beløp (kr)"],
     etablering_rows),
    ("tilskudd_til_utleieboliger_2008-2025.xlsx", "Tilskudd til utleieboliger",
     ["Kommunenummer", "Kommune", "År", "Antall boliger", "Tilskudd (kr)"], utleie_rows),
    ("investeringstilskudd_2008-2025.xlsx", "Investeringstilskudd",
     ["Kommunenummer", "Kommune", "År", "Antall omsorgsboliger", "Antall sykehjemsplasser", "Tilskudd (kr)"],
     investering_rows),
    ("tilvisningsavtaler_2008-2025.xlsx", "Tilvisningsavtaler",
     ["Kommunenummer", "Kommune", "År", "Antall boliger med tilvisningsavtale", "Grunnlån (kr)"], tilvisning_rows),
]


def _timestamp(world: DemoWorld) -> dt.datetime:
    return dt.datetime.fromisoformat(world.generated_at())


def write_demo_workbook(path: Path, world: DemoWorld, sheet_title: str, header: list[str], rows: list[list],
                        title: str) -> Path:
    """A Qlik-like table sheet plus the «Merknad» sheet and properties that mark it synthetic."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title)
    ws.append(header)
    for row in rows:
        ws.append(row)
    note = wb.create_sheet("Merknad")
    note.append([SYNTHETIC_NOTE])
    note.append([f"Laget av boligsosial sin demoverden (seed {world.seed}) {world.generated_at()[:10]}."])
    wb.properties.title = f"{title} – {SYNTHETIC_NOTE}"
    wb.properties.description = SYNTHETIC_NOTE
    wb.properties.creator = "boligsosial demo"
    return write_workbook_deterministic(wb, path, _timestamp(world))


# --- statlig bostøtte, monthly --------------------------------------------------------------------


@lru_cache(maxsize=2)
def statlig_bostotte_households(world: DemoWorld) -> pd.DataFrame:
    """Households with statlig bostøtte per reference municipality and month ('2019-01' …)."""
    pop = _population(world, MONTHLY_YEARS)
    size = np.log10(world.base_population)
    urban = ((size - 3.0) / 2.0).clip(0.3, 1.6)
    yearly = _spread(world, "bostotte", pop * urban[:, None], NATIONAL_BOSTOTTE, MONTHLY_YEARS, 0.2)
    rng = world.rng("husbanken:bostotte:months")
    columns = {}
    for year in MONTHLY_YEARS:
        for month in range(1, 13):
            season = 1 + 0.03 * np.sin(2 * np.pi * (month - 1) / 12)
            columns[f"{year}-{month:02d}"] = np.round(yearly[year].to_numpy() * season *
                                                      np.exp(rng.normal(0, 0.02, len(yearly))))
    return pd.DataFrame(columns, index=world.reference_codes)


def statlig_bostotte_yearly(world: DemoWorld) -> pd.DataFrame:
    """The monthly average per reference municipality and year, for the lead's planted confusion."""
    monthly = statlig_bostotte_households(world)
    return pd.DataFrame({y: monthly[[f"{y}-{m:02d}" for m in range(1, 13)]].mean(axis=1).round()
                         for y in MONTHLY_YEARS})


def confused_bostotte_municipalities(world: DemoWorld) -> list[str]:
    """Three reference municipalities, with kommunal bostøtte and a code unchanged since 2019, whose
    KOSTRA kommunal bostøtte the lead sets equal to our statlig bostøtte (±1 %)."""
    allowance = world.figures["municipal_housing_allowance_households"][MONTHLY_YEARS]
    codes_2019 = set(weights_at(world, 2019)[0])
    pop = world.population[2020]
    candidates = [c for c in world.reference_codes
                  if c in codes_2019 and (allowance.loc[c] > 0).all() and 8000 <= pop[c] <= 150000]
    return sorted(sorted(candidates, key=lambda c: stable_uniform(str(world.seed), "confused-bostotte", c))[:3])


def bostotte_csv_text(world: DemoWorld) -> str:
    monthly = statlig_bostotte_households(world)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Kommunenummer", "Kommune", "År", "Måned", "Antall husstander", "Herav barnefamilier",
                     "Utbetalt bostøtte (kr)", "Gjennomsnittlig bostøtte per husstand (kr)", "Merknad"])
    note = SYNTHETIC_NOTE
    for year in MONTHLY_YEARS:
        codes, matrix = weights_at(world, year)
        for month in range(1, 13):
            values = matrix @ monthly[f"{year}-{month:02d}"].to_numpy(dtype=float)
            for code, value in zip(codes, values):
                households = _count(value)
                if households == 0:
                    continue
                children = _count(households * _share(world, "bostotte:children", code, year, 0.3, 0.1))
                average = 2600 + 120 * (year - 2019) + 600 * stable_uniform("bostotte:avg", code, str(year))
                writer.writerow([code, names_at(world, year)[code], year, month, _suppressed(households),
                                 _suppressed(children), _count(households * average),
                                 f"{average:,.2f}".replace(",", " ").replace(".", ","), note])
                note = SYNTHETIC_MARKER  # the full note once, the short marker on every row
    return out.getvalue()


def write(world: DemoWorld, out_dir: Path) -> list[Path]:
    """Write the Husbanken demo exports into `<out_dir>/husbanken/`; returns the paths."""
    folder = Path(out_dir) / SOURCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, sheet_title, header, make_rows in YEARLY_FILES:
        paths.append(write_demo_workbook(folder / file_name, world, sheet_title, header, make_rows(world),
                                         f"Husbanken – {sheet_title} 2008–2025"))
    csv_path = folder / "statlig_bostotte_maned_2019-2025.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + bostotte_csv_text(world).encode("utf-8"))
    paths.append(csv_path)
    return paths
