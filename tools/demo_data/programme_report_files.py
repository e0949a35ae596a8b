"""Demo programme reports 2016–2018 and the programme list, as the data team would receive them.

- `programme_reports/rapportering_kommuneprogrammet_<year>.xlsx` for 2016, 2017 and 2018: one row per
  programme municipality (with the municipality codes valid that year, e.g. Trondheim 1601 before
  2018), one column per question with that year's wording from `config/programme_questions.yaml`;
  answers in the formats the forms gave (Ja/Nei, «4 - I stor grad», free text);
- `programme_list/programme_municipalities.csv`: the 70 municipalities (2019 codes), their programme
  and validity years, `synthetic` true on every row.

Every workbook has a «Merknad» sheet and document properties with the synthetic note.

Levels follow the report: yes shares for routines on the private rental market 88 → 91 %, eviction
help 89 → 97 %, klagenemnd 5 «nei» in 2016 and none after, boligsosiale hensyn all «ja» from 2017;
the own number sums to 325 (2017) and 192 (2018) with table 3.1's split by size. Free-text answers are
built from phrase banks per goal with the municipality's name; some carry «», &, < and quotes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from tools.demo_data.world import SYNTHETIC_NOTE, DemoWorld, stable_uniform
from tools.demo_data.workbook import write_workbook_deterministic
from orchestration.ingest.files.programme_reports import load_config

SOURCE_DIR = "programme_reports"
LIST_DIR = "programme_list"
REPORT_YEARS = (2016, 2017, 2018)

# How many of the 70 answered «ja» (report figures 3.8, 3.13, 3.15, 3.16).
YES_COUNTS = {
    "yn_private_rental_guidance_routines": {2016: 62, 2017: 63, 2018: 64},
    "yn_eviction_systems": {2016: 62, 2017: 65, 2018: 68},
    "yn_complaints_board": {2016: 65, 2017: 70, 2018: 70},
    "yn_planning_housing_considerations": {2016: 67, 2017: 70, 2018: 70},
}
# New dwellings for substance-abuse / mental-health groups by size class (table 3.1; 2016 invented).
OWN_NUMBER = {2016: {"large": 150, "medium": 105, "small": 5},
              2017: {"large": 175, "medium": 150, "small": 0},
              2018: {"large": 113, "medium": 77, "small": 2}}
SCALE_TEXT = {1: "I svært liten grad", 2: "I liten grad", 3: "I noen grad", 4: "I stor grad", 5: "I svært stor grad"}

OPENERS = {
    "act": ["I {year} har {k} kommune", "{k} kommune har i {year}", "Kommunen har i løpet av {year}",
            "I {k} har vi i {year}"],
    "eval": ["Vi vurderer at", "Kommunens vurdering er at", "Samlet sett mener {k} kommune at",
             "Etter vår vurdering"],
}
ACT_VERBS = ["videreført arbeidet med", "styrket", "startet opp", "organisert", "prioritert"]
EVAL_PHRASES = ["innsatsen har gitt gode resultater, men det gjenstår arbeid", "vi er på rett vei",
                "resultatene er bedre enn i fjor", "det er krevende å måle effekten av tiltakene",
                "innsatsen har vært god, men kapasiteten er begrenset"]

# What municipalities write about each goal; {k} is the municipality's name.
PHRASES: dict[int, list[str]] = {
    1: ["tett samarbeid mellom NAV, kriminalomsorgen og boligkontoret før løslatelse",
        "«Housing First» som modell for bostedsløse med rus- og psykiske helseproblemer",
        "egne rutiner for bolig ved utskrivning fra institusjon",
        "et boligteam som følger opp vanskeligstilte i overgangen til egen bolig"],
    2: ["en vaktordning som sikrer at ingen blir boende i midlertidig botilbud over tre måneder",
        "avvikling av avtaler med hospits og bruk av egne gjennomgangsboliger",
        "ukentlig gjennomgang av alle som bor i midlertidig botilbud",
        "samarbeid med private utleiere for å korte ned oppholdene"],
    3: ["et prinsipp om at barnefamilier aldri skal bo på campinghytte eller hospits",
        "egne oppfølgingsboliger for unge mellom 18 og 25 år",
        "prioritering av barnefamilier ved tildeling av kommunal bolig"],
    4: ["tett dialog med IMDi før bosetting", "innleie av større boliger til store familier",
        "en bosettingsgruppe på tvers av NAV, flyktningtjenesten og eiendom",
        "redusert antall boliger til bosetting i takt med lavere anmodningstall"],
    5: ["kjøp og bygging av nye utleieboliger i sentrum", "salg av boliger som ikke lenger er egnet",
        "tidsbestemte kontrakter og bedre oppfølging av leietakerne",
        "bruk av tilskudd til utleieboliger & startlån i kombinasjon",
        "en ny boligplan med mål om færre enn 10 ledige boliger (ledighet < 5 %)"],
    6: ["universell utforming ved alle nye prosjekter", "tilpasning av eksisterende boliger for rullestolbrukere",
        "miljøvaktmester i de største boligområdene", "bomiljøtiltak i samarbeid med beboerne"],
    7: ["veiledning om depositum, husleiekontrakt og «Leieboerforeningen»",
        "kommunal garanti for depositum i stedet for kontant depositum",
        "boligsosial veileder på NAV-kontoret som hjelper med å finne bolig på det private markedet"],
    8: ["aktiv bruk av startlån og tilskudd til etablering for barnefamilier",
        "prosjektet «Fra leie til eie» for familier i kommunale boliger",
        "lengre nedbetalingstid på startlån for å gjøre det mulig å kjøpe",
        "samarbeid med lokale banker om toppfinansiering"],
    9: ["refinansiering med startlån for å unngå tvangssalg", "økonomisk rådgivning før refinansiering",
        "tidlig kontakt med namsmannen ved begjæring om tvangssalg"],
    10: ["faste rutiner for oppfølging av husleierestanser", "varsling fra boligforvaltningen til NAV ved mislighold",
         "en avtale med namsmannen om varsel ved begjæring om utkastelse",
         "et «restanseteam» som kontakter leietakere etter første purring"],
    11: ["ambulante tjenester og bo-oppfølging i egen bolig", "FACT-team i samarbeid med spesialisthelsetjenesten",
         "tverrfaglige møter om tjenester til beboere i kommunale boliger"],
    12: ["en boligsosial handlingsplan vedtatt av kommunestyret", "et boligkontor som samler tildeling og oppfølging",
         "kartlegging av boligbehov med hjelp fra Husbanken og veiviseren.no",
         "kompetanseheving gjennom Husbankens læringsnettverk"],
    13: ["brukerråd med representanter fra Mental Helse og \"RIO\"", "brukerundersøkelse blant leietakere",
         "faste møter med bruker- og pårørendeorganisasjonene i planarbeidet",
         "klagenemnd som behandler klager på tildeling av kommunal bolig"],
    14: ["samarbeid med private utbyggere om tilvisningsavtaler", "deltakelse i forskningsprosjekt om bostedsløshet",
         "bruk av velferdsteknologi i omsorgsboliger", "sosialt entreprenørskap i samarbeid med frivillige"],
    15: ["boligsosiale hensyn i kommuneplanens samfunnsdel", "krav om variert boligsammensetning i reguleringsplaner",
         "bruk av utbyggingsavtaler for å sikre utleieboliger", "et boligpolitisk program for perioden 2018–2022"],
}


def _timestamp(world: DemoWorld) -> dt.datetime:
    return dt.datetime.fromisoformat(world.generated_at())


@lru_cache(maxsize=8)
def codes_in_year(world: DemoWorld, year: int) -> dict[str, str]:
    """Each programme municipality's 2019 code → the code it had at the end of `year`: the same code if
    it existed, else the predecessor with the same name (Trondheim 5001 ← 1601), else the one
    sharing most of its area in the world's composition."""
    then = world.composition_at(f"{year}-12-31")
    in_2019 = world.composition_at("2019-12-31")
    out = {}
    for code in world.programme_municipalities.municipality_code:
        if code in then:
            out[code] = code
            continue
        parts = in_2019.get(code, {code: 1.0})
        overlap = {c: sum(min(w, then[c].get(ref, 0.0)) for ref, w in parts.items()) for c in sorted(then)}
        name = world.name(code, "2019-12-31")
        out[code] = max((c for c in overlap if overlap[c] > 0),
                        key=lambda c: (world.name(c, f"{year}-12-31") == name, overlap[c]))
    return out


def _answer_text(world: DemoWorld, qid: str, goal: int, year: int, code: str, name: str) -> str | None:
    u = lambda *parts: stable_uniform(str(world.seed), "programme-text", qid, str(year), code, *parts)  # noqa: E731
    if u("blank") < 0.02:
        return None  # some questions are left unanswered
    kind = "eval" if qid.startswith("eval") else "act"
    bank = PHRASES[goal]
    picks = sorted({int(u("pick", str(i)) * len(bank)) for i in range(1 + int(u("n") * 3))})
    opener = OPENERS[kind][int(u("opener") * len(OPENERS[kind]))].format(k=name, year=year)
    if kind == "act":
        verb = ACT_VERBS[int(u("verb") * len(ACT_VERBS))]
        text = f"{opener} {verb} {bank[picks[0]]}."
        text += "".join(f" Vi har også {bank[i]}." if j % 2 == 0 else f" I tillegg er det etablert {bank[i]}."
                        for j, i in enumerate(picks[1:]))
    else:
        text = f"{opener} {EVAL_PHRASES[int(u('eval') * len(EVAL_PHRASES))]}. Viktigst har vært {bank[picks[0]]}."
    if u("detail") < 0.25:
        text += f" Se også {name} kommunes boligsosiale plan («Et godt sted å bo»)."
    return text[0].upper() + text[1:]


def answers_frame(world: DemoWorld, year: int) -> pd.DataFrame:
    """The year's answers as a frame: rows = programme municipalities (2019 codes), cols = question ids."""
    config = load_config()
    members = world.programme_municipalities
    codes = list(members.municipality_code)
    names = dict(zip(members.municipality_code, members.municipality_name))
    size = dict(zip(members.municipality_code, members.size_class_2019))
    out = pd.DataFrame(index=codes)
    for qid, question in config["questions"].items():
        if year not in question["labels"]:
            continue
        kind, goal = question["kind"], int(question["goal"])
        if kind == "yes_no":
            order = sorted(codes, key=lambda c: stable_uniform(str(world.seed), "programme-no", qid, c))
            noes = set(order[: len(codes) - YES_COUNTS[qid][year]])
            yes, no = ("ja", "nei") if year == 2017 else ("Ja", "Nei")
            out[qid] = [no if c in noes else yes for c in codes]
        elif kind == "scale_1_5":
            rng = world.rng(f"programme:{qid}:{year}")
            latent = np.array([stable_uniform(str(world.seed), "programme-scale", c) for c in codes])
            score = np.clip(np.round(2.0 + 0.35 * (year - 2016) + 1.8 * latent + rng.normal(0, 0.4, len(codes))), 1, 5)
            out[qid] = [_scale_cell(int(s), year) for s in score]
        elif kind == "number":
            out[qid] = _own_numbers(world, year, codes, size)
        else:
            out[qid] = [_answer_text(world, qid, goal, year, c, names[c]) for c in codes]
    return out


def _scale_cell(score: int, year: int) -> int | str:
    if year == 2016:
        return SCALE_TEXT[score]
    if year == 2017:
        return f"{score} - {SCALE_TEXT[score]}"
    return score


def _own_numbers(world: DemoWorld, year: int, codes: list[str], size: dict[str, str]) -> list[int]:
    pop = world.as_reported(world.population, 2020, "2019-12-31")
    rng = world.rng(f"programme:own-number:{year}")
    counts = dict.fromkeys(codes, 0)
    for cls, total in OWN_NUMBER[year].items():
        members = [c for c in codes if size[c] == cls]
        active = [c for c in members if rng.random() < 0.65] or members
        weights = np.array([pop.get(c, 5000.0) ** 0.7 for c in active])
        for c, n in zip(active, rng.multinomial(total, weights / weights.sum())):
            counts[c] = int(n)
    return [counts[c] for c in codes]


def report_workbook(world: DemoWorld, year: int, path: Path) -> Path:
    config = load_config()
    answers = answers_frame(world, year)
    year_codes = codes_in_year(world, year)
    submitted = dt.datetime(year + 1, 2, 1, 12, 0)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"Rapportering {year}")
    qids = list(answers.columns)
    identity = ["Kommunenummer", "Kommune"] + (["Rapporteringsår"] if year == 2018 else []) + ["Innsendt"]
    ws.append(identity + [config["questions"][q]["labels"][year] for q in qids])
    for i, code in enumerate(answers.index):
        code_then = year_codes[code]
        name = world.name(code_then, f"{year}-12-31")
        row = [code_then, name] + ([year] if year == 2018 else []) + [submitted + dt.timedelta(hours=7 * i)]
        ws.append(row + [None if pd.isna(v) else v for v in answers.loc[code, qids]])
    note = wb.create_sheet("Merknad")
    note.append([SYNTHETIC_NOTE])
    note.append([f"Rapportering fra kommunene i Husbankens kommuneprogram {year} – oppdiktede svar."])
    wb.properties.title = f"Kommuneprogrammet – rapportering {year} – {SYNTHETIC_NOTE}"
    wb.properties.description = SYNTHETIC_NOTE
    wb.properties.creator = "boligsosial demo"
    return write_workbook_deterministic(wb, path, _timestamp(world))


def programme_list_csv(world: DemoWorld) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["municipality_code", "municipality_name", "programme", "valid_from_year", "valid_to_year",
                     "synthetic"])
    for row in world.programme_municipalities.itertuples():
        writer.writerow([row.municipality_code, row.municipality_name, row.programme, row.valid_from_year,
                         row.valid_to_year, "true"])
    return out.getvalue()


def write(world: DemoWorld, out_dir: Path) -> list[Path]:
    """The three yearly reports into `<out_dir>/programme_reports/` and the programme list into
    `<out_dir>/programme_list/`; returns the paths."""
    out_dir = Path(out_dir)
    paths = [report_workbook(world, year, out_dir / SOURCE_DIR / f"rapportering_kommuneprogrammet_{year}.xlsx")
             for year in REPORT_YEARS]
    list_path = out_dir / LIST_DIR / "programme_municipalities.csv"
    list_path.parent.mkdir(parents=True, exist_ok=True)
    list_path.write_text(programme_list_csv(world), encoding="utf-8")
    return paths + [list_path]
