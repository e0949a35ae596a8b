"""Demo dwelling registers (issue 18): a few municipalities' exports of the dwellings they dispose.

`dwelling_register/boligregister_<code>_<year>.xlsx` for five municipalities of different size and the
reference years 2023 and 2024 (status 31 December). Each register agrees with the world's KOSTRA skjema 13
figures of its year (dwellings, vacant = ledig + under oppussing, wheelchair-accessible, households moved
in during the year), except the planted deviation: one 2024 register leaves out the innleide dwellings,
which the consistency check must flag.

The realistic mess the importer must handle:
- `…_<year>.xlsx` of one municipality has a duplicate dwelling id and a tenancy that ends before it starts
  (rejected, row and column named), beside `…_<year>_rettet.xlsx`, the corrected file that loads;
- another has an unknown target-group label («Bostedsløse»), beside its corrected file;
- `…_med_fnr.csv` carries a «Fødselsnummer» column (Skatteetaten's synthetic test numbers, month + 80, so
  no real person's number): refused before landing, nothing of it stored.

`register_truth(world)` gives the unsuppressed counts behind the loaded files, for tests.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from tools.demo_data.husbanken_files import names_at, weights_at
from tools.demo_data.world import SYNTHETIC_NOTE, DemoWorld, stable_uniform
from orchestration.ingest.files.personal_data import with_check_digits
from tools.demo_data.workbook import write_workbook_deterministic

SOURCE_DIR = "dwelling_register"
YEARS = (2023, 2024)
# (label, population range): one municipality per class, picked by a stable draw
SIZE_TARGETS = (("large", 40000, 70000), ("medium_large", 15000, 25000), ("medium", 6000, 12000),
                ("small", 2500, 4500), ("tiny", 600, 1500))
HEADER = ["Bolig-ID", "Kommunenummer", "Referansedato", "Boligtype", "Eierform", "Rullestoltilgjengelig",
          "Status", "Målgruppe", "Aldersgruppe", "Tildelt av", "Innflyttet", "Fraflyttet"]

TYPE_LABEL = {"kommunal_utleiebolig": "Kommunal utleiebolig", "omsorgsbolig": "Omsorgsbolig",
              "aldersbolig": "Aldersbolig", "omsorg_pluss": "Omsorg+", "heldogns_bemanning": "Bolig med heldøgns bemanning"}
OWNERSHIP_LABEL = {"eid": "Eid", "innleid": "Innleid", "privat_disposisjon": "Privat med disposisjonsrett"}
STATUS_LABEL = {"bebodd": "Bebodd", "ledig": "Ledig", "under_oppussing": "Under oppussing"}
GROUP_LABEL = {"eldre": "Eldre mv.", "nedsatt_funksjonsevne": "Personer med nedsatt funksjonsevne",
               "psykisk_rus": "Psykiske problemer og rusproblemer", "flyktninger": "Flyktninger",
               "andre_problemer": "Andre problemer", "uten_behovsproving": "Uten behovsprøving"}
AGE_LABEL = {"under_30": "Under 30 år", "30_66": "30-66 år", "67_79": "67-79 år", "80_plus": "80 år og over"}
UNIT_LABEL = {"tjenestekontor": "Tjenestekontoret", "boligkontor": "Boligkontoret", "inntaksteam": "Inntaksteamet",
              "nav": "NAV", "flyktningtjenesten": "Flyktningtjenesten"}

# Who lives in which kind of dwelling, how old they are, who allocates, and how often they move.
GROUPS_BY_TYPE = {
    "omsorgsbolig": {"eldre": 0.6, "nedsatt_funksjonsevne": 0.3, "psykisk_rus": 0.1},
    "aldersbolig": {"eldre": 0.95, "andre_problemer": 0.05},
    "omsorg_pluss": {"eldre": 1.0},
    "heldogns_bemanning": {"nedsatt_funksjonsevne": 0.6, "psykisk_rus": 0.25, "eldre": 0.15},
    "kommunal_utleiebolig": {"psykisk_rus": 0.3, "flyktninger": 0.3, "andre_problemer": 0.25,
                             "nedsatt_funksjonsevne": 0.05, "uten_behovsproving": 0.1},
}
AGES_BY_GROUP = {
    "eldre": {"30_66": 0.1, "67_79": 0.3, "80_plus": 0.6},
    "nedsatt_funksjonsevne": {"under_30": 0.45, "30_66": 0.45, "67_79": 0.1},
    "psykisk_rus": {"under_30": 0.2, "30_66": 0.7, "67_79": 0.1},
    "flyktninger": {"under_30": 0.4, "30_66": 0.58, "67_79": 0.02},
    "andre_problemer": {"under_30": 0.3, "30_66": 0.55, "67_79": 0.1, "80_plus": 0.05},
    "uten_behovsproving": {"30_66": 0.4, "67_79": 0.4, "80_plus": 0.2},
}
UNITS_BY_GROUP = {
    "eldre": {"tjenestekontor": 0.8, "inntaksteam": 0.2},
    "nedsatt_funksjonsevne": {"tjenestekontor": 0.6, "inntaksteam": 0.4},
    "psykisk_rus": {"inntaksteam": 0.5, "boligkontor": 0.4, "nav": 0.1},
    "flyktninger": {"flyktningtjenesten": 0.7, "boligkontor": 0.3},
    "andre_problemer": {"boligkontor": 0.6, "nav": 0.4},
    "uten_behovsproving": {"boligkontor": 1.0},
}
TURNOVER_FACTOR = {"eldre": 1.0, "nedsatt_funksjonsevne": 0.4, "psykisk_rus": 1.6, "flyktninger": 2.2,
                   "andre_problemer": 1.3, "uten_behovsproving": 0.6}


def _u(world: DemoWorld, *parts: str) -> float:
    return stable_uniform(str(world.seed), "register", *parts)


@lru_cache(maxsize=2)
def municipalities(world: DemoWorld) -> list[str]:
    """One municipality per size target whose code is unchanged in every register year (codes of the
    reference structure, so the register and KOSTRA use the same code)."""
    stable = None
    for year in YEARS:
        codes, matrix = weights_at(world, year)
        ref_index = {c: i for i, c in enumerate(world.reference_codes)}
        ok = {c for r, c in enumerate(codes) if c in ref_index and matrix[r, ref_index[c]] == 1.0
              and np.count_nonzero(matrix[r]) == 1}
        stable = ok if stable is None else stable & ok
    pop = world.population[max(YEARS)]
    chosen = []
    for label, low, high in SIZE_TARGETS:
        candidates = sorted(c for c in stable if low <= pop[c] <= high)
        chosen.append(min(candidates, key=lambda c: _u(world, "pick", label, c)))
    return sorted(chosen)


def planted_deviation(world: DemoWorld) -> tuple[str, int]:
    """(municipality, year) whose register leaves out its innleide dwellings."""
    return municipalities(world)[2], max(YEARS)


def kostra_figures(world: DemoWorld, code: str, year: int) -> dict[str, int]:
    out = {}
    for measure in ("dwellings_total", "dwellings_vacant", "dwellings_wheelchair", "households_newly_moved_in",
                    "dwellings_owned", "dwellings_rented", "care_dwellings"):
        out[measure] = int(world.as_reported(world.figures[measure], year)[code])
    return out


def _draw(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())] if n else np.array([], dtype=object)


@lru_cache(maxsize=16)
def register_frame(world: DemoWorld, code: str, year: int) -> pd.DataFrame:
    """The register of `code` at 31 December `year` as canonical values (one row per dwelling and tenancy)."""
    k = kostra_figures(world, code, year)
    rng = world.rng(f"register:{code}:{year}")
    total, vacant, wheel, moved = (k["dwellings_total"], k["dwellings_vacant"], k["dwellings_wheelchair"],
                                   k["households_newly_moved_in"])
    vacant, wheel = min(vacant, total), min(wheel, total)
    ref = dt.date(year, 12, 31)
    year_start = dt.date(year, 1, 1)
    n_owned = min(k["dwellings_owned"], total)
    n_rented = min(k["dwellings_rented"], total - n_owned)
    ownership = np.array(["eid"] * n_owned + ["innleid"] * n_rented + ["privat_disposisjon"] * (total - n_owned - n_rented),
                         dtype=object)
    care = min(k["care_dwellings"], total)
    types = np.array(["omsorgsbolig"] * round(care * 0.7) + ["heldogns_bemanning"] * round(care * 0.2), dtype=object)
    types = np.concatenate([types, np.array(["omsorg_pluss"] * (care - len(types)), dtype=object)])
    rest = total - care
    n_alders = round(rest * 0.05)
    types = np.concatenate([types, np.array(["aldersbolig"] * n_alders + ["kommunal_utleiebolig"] * (rest - n_alders),
                                            dtype=object)])
    rng.shuffle(ownership)
    dwellings = pd.DataFrame({
        "dwelling_id": [f"B{code}-{i + 1:05d}" for i in range(total)],
        "dwelling_type": types, "ownership": ownership,
    })
    dwellings["wheelchair_accessible"] = False
    dwellings.loc[rng.choice(total, size=wheel, replace=False), "wheelchair_accessible"] = True
    status = np.array(["bebodd"] * total, dtype=object)
    vacant_idx = rng.choice(total, size=vacant, replace=False)
    status[vacant_idx] = np.where(rng.random(vacant) < 0.75, "ledig", "under_oppussing")
    dwellings["status"] = status
    dwellings["target_group"] = [_draw(rng, GROUPS_BY_TYPE[t], 1)[0] for t in dwellings.dwelling_type]
    occupied = dwellings.index[dwellings.status == "bebodd"].to_numpy()

    # Households moved in during the year: by group, weighted by how often the group moves.
    weight = dwellings.loc[occupied, "target_group"].map(TURNOVER_FACTOR).to_numpy(dtype=float)
    n_running_new = min(moved, round(len(occupied) * 0.9))
    new_running = rng.choice(occupied, size=n_running_new, replace=False, p=weight / weight.sum()) \
        if n_running_new else np.array([], dtype=int)
    rows = []

    def tenancy(d: int, group: str, start: dt.date, end: dt.date | None) -> dict:
        age = _draw(rng, AGES_BY_GROUP[group], 1)[0]
        unit = _draw(rng, UNITS_BY_GROUP[group], 1)[0]
        return {**dwellings.loc[d].to_dict(), "target_group": group, "age_band": age, "allocating_unit": unit,
                "tenancy_start": start, "tenancy_end": end}

    def date_in_year(low: dt.date, high: dt.date) -> dt.date:
        return low + dt.timedelta(days=int(rng.integers(0, max((high - low).days, 1))))

    new_set = set(new_running.tolist())
    for d in occupied:
        group = dwellings.at[d, "target_group"]
        if d in new_set:
            start = date_in_year(year_start + dt.timedelta(days=20), ref)
            # the previous tenant of this dwelling moved out shortly before
            prev_end = start - dt.timedelta(days=int(rng.integers(1, 20)))
            prev_start = prev_end - dt.timedelta(days=int(rng.exponential(365 * 6 / TURNOVER_FACTOR[group])) + 30)
            # moved in before the year, so the year's moves-in stay exactly KOSTRA's figure
            prev_start = min(prev_start, year_start - dt.timedelta(days=int(rng.integers(30, 400))))
            rows.append(tenancy(d, _draw(rng, GROUPS_BY_TYPE[dwellings.at[d, "dwelling_type"]], 1)[0],
                                prev_start, prev_end))
        else:
            years_in = rng.exponential(8 / TURNOVER_FACTOR[group]) + 0.05
            start = year_start - dt.timedelta(days=int(years_in * 365) + 1)
        rows.append(tenancy(d, group, start, None))
    # the rest of the year's moves-in: short stays in dwellings that are vacant at the year's end
    vacant_rows = dwellings.index[dwellings.status != "bebodd"].to_numpy()
    next_free = {int(d): year_start for d in vacant_rows}
    for i in range(moved - n_running_new):
        if not len(vacant_rows):
            break
        d = int(vacant_rows[i % len(vacant_rows)])
        start = next_free[d] + dt.timedelta(days=int(rng.integers(1, 10)))
        end = start + dt.timedelta(days=int(rng.integers(14, 60)))
        if end >= dt.date(year, 12, 20):
            break
        next_free[d] = end
        rows.append(tenancy(d, dwellings.at[d, "target_group"], start, end))
    # vacant dwellings: one row each, with the group the dwelling is meant for
    for d in dwellings.index[dwellings.status != "bebodd"]:
        rows.append({**dwellings.loc[d].to_dict(), "age_band": None, "allocating_unit": None,
                     "tenancy_start": None, "tenancy_end": None})
    frame = pd.DataFrame(rows)
    frame.insert(1, "municipality_code", code)
    frame.insert(2, "reference_date", ref)
    if (code, year) == planted_deviation(world):
        frame = frame[frame.ownership != "innleid"]
    return frame.sort_values(["dwelling_id", "tenancy_start"], na_position="first", kind="stable").reset_index(drop=True)


def register_truth(world: DemoWorld) -> pd.DataFrame:
    """Every loaded register (the corrected ones), canonical values, for tests against the marts."""
    return pd.concat([register_frame(world, c, y) for c in municipalities(world) for y in YEARS], ignore_index=True)


def _labelled(frame: pd.DataFrame) -> list[list]:
    out = []
    for r in frame.itertuples(index=False):
        out.append([r.dwelling_id, r.municipality_code, r.reference_date.strftime("%d.%m.%Y"),
                    TYPE_LABEL[r.dwelling_type], OWNERSHIP_LABEL[r.ownership], "Ja" if r.wheelchair_accessible else "Nei",
                    STATUS_LABEL[r.status], GROUP_LABEL.get(r.target_group), AGE_LABEL.get(r.age_band),
                    UNIT_LABEL.get(r.allocating_unit),
                    r.tenancy_start.strftime("%d.%m.%Y") if isinstance(r.tenancy_start, dt.date) else None,
                    r.tenancy_end.strftime("%d.%m.%Y") if isinstance(r.tenancy_end, dt.date) else None])
    return out


def _write_xlsx(world: DemoWorld, path: Path, code: str, year: int, rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Boliger"
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    note = wb.create_sheet("Merknad")
    note.append([SYNTHETIC_NOTE])
    name = names_at(world, year).get(code, code)
    wb.properties.title = f"Boligregister {name} {year} – {SYNTHETIC_NOTE}"
    wb.properties.description = SYNTHETIC_NOTE
    wb.properties.creator = "boligsosial demo"
    return write_workbook_deterministic(wb, path, dt.datetime.fromisoformat(world.generated_at()))


def write(world: DemoWorld, inbox: Path) -> list[Path]:
    folder = inbox / SOURCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    codes = municipalities(world)
    written = []
    for code in codes:
        for year in YEARS:
            written.append(_write_xlsx(world, folder / f"boligregister_{code}_{year}.xlsx", code, year,
                                       _labelled(register_frame(world, code, year))))
    year = max(YEARS)
    # 1. a duplicate dwelling id and a tenancy ending before it starts; the corrected file beside it
    messy_code = codes[3]
    good = _labelled(register_frame(world, messy_code, year))
    messy = [list(r) for r in good]
    dup = list(messy[5])
    dup[3] = TYPE_LABEL["aldersbolig"] if dup[3] != TYPE_LABEL["aldersbolig"] else TYPE_LABEL["omsorgsbolig"]
    dup[10], dup[11] = "01.03.2019", "01.02.2020"
    messy.insert(12, dup)
    bad = next(i for i, r in enumerate(messy) if r[11] is not None)
    messy[bad][10], messy[bad][11] = messy[bad][11], messy[bad][10]  # start and end swapped
    good_path = folder / f"boligregister_{messy_code}_{year}.xlsx"
    good_path.rename(folder / f"boligregister_{messy_code}_{year}_rettet.xlsx")
    written[written.index(good_path)] = folder / f"boligregister_{messy_code}_{year}_rettet.xlsx"
    written.append(_write_xlsx(world, good_path, messy_code, year, messy))
    # 2. an unknown target-group label; the corrected file beside it
    label_code = codes[1]
    rows = [list(r) for r in _labelled(register_frame(world, label_code, year))]
    first = next(i for i, r in enumerate(rows) if r[7] is not None)
    rows[first][7] = "Bostedsløse"
    good_path = folder / f"boligregister_{label_code}_{year}.xlsx"
    good_path.rename(folder / f"boligregister_{label_code}_{year}_rettet.xlsx")
    written[written.index(good_path)] = folder / f"boligregister_{label_code}_{year}_rettet.xlsx"
    written.append(_write_xlsx(world, good_path, label_code, year, rows))
    # 3. an export with the tenants' national identity numbers (synthetic test numbers, month + 80)
    fnr_code = codes[4]
    rows = _labelled(register_frame(world, fnr_code, year))
    lines = [";".join(["Fødselsnummer", *HEADER, "Merknad"])]
    for i, row in enumerate(rows):
        fnr = ""
        if row[10] is not None:
            n = i
            while True:  # a synthetic number: day 01–28, month 81–92, a serial that gives valid check digits
                candidate = with_check_digits(f"{n % 28 + 1:02d}{n % 12 + 81:02d}{50 + n % 40:02d}{(n * 7) % 1000:03d}")
                if candidate:
                    break
                n += 1
            fnr = candidate
        lines.append(";".join([fnr, *("" if v is None else str(v) for v in row), SYNTHETIC_NOTE]))
    path = folder / f"boligregister_{fnr_code}_{year}_med_fnr.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    written.append(path)
    return written
