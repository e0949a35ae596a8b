"""Open answers for the demo programme reports, written in the style of the real ones (report chapter 3):
short lists and full sentences, bokmål and (for about one municipality in seven) nynorsk, typos,
negations («vi har ikke hatt behov for …»), assessment answers that mostly describe activities, and a few
hostile cells (HTML, a formula, a very long answer, mojibake) that the pipeline must survive.

Each goal has a bank of sentences, each with the probability that a municipality mentions it, so the
marts show the spread the report describes («om lag halvparten …», «enkelte …»). Everything is drawn with
stable_uniform: the same world gives byte-identical answers. SYNTETISKE DEMODATA.
"""

from __future__ import annotations

import re
from typing import Callable

# goal → [(probability, sentence)]; {k} is the municipality's name, {year} the reporting year.
BANK: dict[int, list[tuple[float, str]]] = {
    1: [(0.55, "Det er etablert et tett samarbeid mellom NAV, kriminalomsorgen og boligkontoret før løslatelse."),
        (0.35, "Vi bruker Housing First som modell for bostedsløse med rus- og psykiske helseproblemer."),
        (0.40, "Tildelingsutvalget får melding ved planlagt utskrivning fra institusjon, slik at bolig er klar."),
        (0.30, "Et boligteam følger opp vanskeligstilte i overgangen til egen bolig, med boveiledning de første månedene."),
        (0.15, "Startlån er brukt for å hjelpe enkelte til å kjøpe egen bolig etter endt behandling.")],
    2: [(0.50, "Ukentlige tverrfaglige møter om alle som bor i midlertidig botilbud, der NAV, rustjenesten og boligkontoret deltar."),
        (0.50, "En boligfremskaffer hjelper personer i midlertidig botilbud med å finne bolig hos private utleiere."),
        (0.30, "Personer i midlertidig botilbud prioriteres i tildelingsmøtet."),
        (0.25, "Avtalene med hospits er avviklet, og vi bruker egne gjennomgangsboliger i stedet."),
        (0.15, "Midlertidig botilbud er omtalt i den boligsosiale handlingsplanen.")],
    3: [(0.55, "Barnefamilier prioriteres alltid ved tildeling av kommunal bolig."),
        (0.30, "Egne ungdomsboliger for unge mellom 18 og 25 år, med boveileder."),
        (0.30, "Familier med barn får hjelp til å søke startlån og tilskudd til etablering."),
        (0.25, "Samarbeid mellom barnevernet, NAV og boligtjenesten om unge som står uten bolig.")],
    4: [(0.55, "Tett dialog med IMDi før vedtak om bosetting, slik at boligen er tilpasset familien."),
        (0.50, "De fleste flyktningene bosettes i boliger på det private leiemarkedet."),
        (0.35, "Kommunen leier inn boliger fra private og fremleier dem til flyktninger."),
        (0.30, "Flyktningtjenesten, eiendom og NAV har en felles bosettingsgruppe på tvers av enhetene."),
        (0.25, "Alle nybosatte får bo-oppfølging og opplæring i å være leietaker.")],
    5: [(0.45, "Kartlegging av den kommunale boligmassen er gjennomført, og uegnede boliger selges."),
        (0.40, "Tilskudd til utleieboliger fra Husbanken er brukt til kjøp av nye utleieboliger."),
        (0.35, "Alle nye leiekontrakter er tidsbestemte, og det vurderes ved utløp om leietaker kan kjøpe."),
        (0.25, "Prosjektet «Fra leie til eie» har gitt leietakere mulighet til å kjøpe boligen de leier."),
        (0.30, "Det er bygget småhus og et bemannet bofellesskap for personer med rus og psykiske lidelser."),
        (0.25, "Boligsosial handlingsplan setter mål for sammensetningen av boligmassen.")],
    6: [(0.60, "Alle nye kommunale boliger bygges med universell utforming."),
        (0.40, "Ved rehabilitering tilpasses boligene for rullestolbrukere der det er mulig."),
        (0.20, "Miljøvaktmester følger opp bomiljøet i de største boligområdene."),
        (0.20, "Ergoterapeut og boligforvalter vurderer tverrfaglig tilpasning for den enkelte beboer.")],
    7: [(0.55, "NAV gir veiledning om leiekontrakt, depositum og rettigheter som leietaker."),
        (0.45, "Kommunal garanti for depositum gis i stedet for kontant depositum."),
        (0.35, "Boligsøkere får hjelp til å gå gjennom annonser og bli med på visning hos private utleiere."),
        (0.20, "Boligkontoret har faste veiledningstider om det private leiemarkedet.")],
    8: [(0.70, "Barnefamilier prioriteres ved tildeling av startlån og tilskudd til etablering."),
        (0.30, "Prosjektet «Fra leie til eie» for barnefamilier i kommunale boliger er videreført."),
        (0.30, "Alle søkere får tilbud om økonomisk rådgivning før kjøp."),
        (0.15, "Søknad om startlån er digitalisert, noe som gjør det enklere å søke.")],
    9: [(0.55, "Refinansiering med startlån vurderes når husstanden står i fare for tvangssalg."),
        (0.35, "Gjeldsrådgiver i NAV gir økonomisk rådgivning før refinansiering."),
        (0.25, "Namsmannen varsler kommunen ved begjæring om tvangssalg."),
        (0.20, "Barnefamilier prioriteres når startlån til refinansiering vurderes.")],
    10: [(0.75, "Faste rutiner for oppfølging av husleierestanser, med restansemøter hver måned."),
         (0.45, "NAV varsles ved mislighold av husleie, og leietaker får tilbud om betalingsavtale."),
         (0.40, "Avtale med namsmannen om varsel til kommunen ved begjæring om fravikelse."),
         (0.20, "Leietakere tilbys økonomisk rådgivning og frivillig forvaltning av økonomien.")],
    11: [(0.50, "Ambulante tjenester og bo-oppfølging i egen bolig fra psykisk helse og rus."),
         (0.30, "FACT-team i samarbeid med spesialisthelsetjenesten."),
         (0.45, "Tverrfaglige møter om tjenester til beboere i kommunale boliger."),
         (0.20, "Miljøvaktmester og boveiledere følger opp beboerne."),
         (0.20, "Vi jobber etter Housing First for bostedsløse.")],
    12: [(0.55, "Boligsosial handlingsplan er vedtatt av kommunestyret og rulleres hvert år."),
         (0.40, "Boligkontoret samler søknader, tildeling og oppfølging."),
         (0.35, "Kartlegging av boligbehov med hjelp fra Husbanken og veiviseren.no."),
         (0.35, "Kompetanseheving gjennom Husbankens læringsnettverk og kurs for ansatte."),
         (0.35, "Det boligsosiale arbeidet er organisert på tvers av sektorene med et boligsosialt team.")],
    13: [(0.45, "Brukerrådet og Mental Helse deltar i arbeidet med ny boligplan."),
         (0.30, "Brukerundersøkelse blant leietakerne er gjennomført."),
         (0.50, "Kommunal klagenemnd behandler klager på tildeling av kommunal bolig."),
         (0.20, "Erfaringskonsulent deltar i planleggingen av nye boliger.")],
    14: [(0.30, "Samarbeid med private utbyggere om tilvisningsavtaler."),
         (0.30, "Deltakelse i forskningsprosjekt og nettverk med andre kommuner."),
         (0.25, "Velferdsteknologi tas i bruk i nye omsorgsboliger."),
         (0.25, "Samarbeid med frivillige organisasjoner og sosiale entreprenører om oppussing og flyttehjelp."),
         (0.25, "Tverrfaglig samarbeid mellom helse og omsorg og teknisk om nye boliger.")],
    15: [(0.60, "Boligsosiale hensyn er tatt inn i kommuneplanens samfunnsdel."),
         (0.35, "Det stilles krav om variert boligsammensetning i reguleringsplaner."),
         (0.30, "Utbyggingsavtaler brukes for å sikre kommunen utleieboliger i nye prosjekter."),
         (0.25, "Boligpolitisk program for perioden 2018–2022 er vedtatt.")],
}

# Mentions under a negation: these must NOT count for their theme.
NEGATED: dict[int, list[str]] = {
    1: ["Vi har ikke egen avtale med kriminalomsorgen."],
    2: ["Kommunen har ikke boligfremskaffer i dag."],
    5: ["Vi har ikke tatt i bruk tidsbestemte kontrakter i omsorgsboliger."],
    11: ["Vi har ikke FACT-team, men psykisk helsetjeneste gir oppfølging ved behov."],
    12: ["Boligsosial handlingsplan er ikke vedtatt ennå."],
    13: ["Brukerne involveres ikke systematisk i planarbeidet."],
}
# «No need» answers: the theme signalled by the negation itself.
NO_NEED: dict[int, tuple[float, str]] = {
    2: (0.10, "Vi har ikke hatt behov for midlertidig botilbud over tre måneder i {year}."),
    3: (0.45, "Vi har ikke hatt barnefamilier eller unge i midlertidig botilbud i {year}."),
    4: (0.15, "Kommunen har ikke bosatt flyktninger i {year} og har ikke hatt behov for nye boliger."),
    9: (0.25, "Ingen saker i {year}."),
}

OPENERS_ACT = ["", "", "I {year} har vi: ", "Kort oppsummert: ", "{k} kommune: "]
ASSESSMENTS = ["Vi vurderer at innsatsen har gitt gode resultater, men det gjenstår arbeid.",
               "Vi er på rett vei.", "Resultatene er bedre enn i fjor.",
               "Det er krevende å måle effekten av tiltakene.",
               "Innsatsen har vært god, men kapasiteten er begrenset.",
               "Resultatet er ikke tilfredsstillende, og vi må jobbe mer med dette."]

# A coarse bokmål → nynorsk rewrite, word by word, for the nynorsk municipalities.
NYNORSK = {
    "ikke": "ikkje", "bolig": "bustad", "boliger": "bustader", "boligen": "bustaden", "boligene": "bustadene",
    "kommunal": "kommunal", "tjenester": "tenester", "tjenesten": "tenesta", "barnefamilier": "barnefamiliar",
    "leietakere": "leigetakarar", "leietaker": "leigetakar", "leietakerne": "leigetakarane",
    "utleiere": "utleigarar", "utleieboliger": "utleigebustader", "hver": "kvar", "noen": "nokre",
    "flere": "fleire", "egen": "eigen", "eget": "eige", "egne": "eigne", "også": "òg", "fra": "frå",
    "hvordan": "korleis", "hva": "kva", "bare": "berre", "være": "vere", "vært": "vore", "mellom": "mellom",
    "bosetting": "busetjing", "bosettes": "busetjast", "midlertidig": "mellombels", "gjennom": "gjennom",
    "tilbud": "tilbod", "tilbys": "vert tilbodne", "prioriteres": "vert prioriterte", "behandler": "handsamar",
    "klager": "klagar", "vurderes": "vert vurdert", "unge": "unge", "jobber": "jobbar", "mye": "mykje",
    "etter": "etter", "dette": "dette", "disse": "desse", "arbeidet": "arbeidet", "hjelp": "hjelp",
    "kjøpe": "kjøpe", "får": "får", "gir": "gjev", "deltar": "deltek", "varsler": "varslar", "brukes": "vert brukt",
    "rutiner": "rutinar", "møter": "møte", "ansatte": "tilsette", "samarbeid": "samarbeid", "blir": "vert",
}
_WORD = re.compile(r"[A-Za-zÆØÅæøå]+")


def to_nynorsk(text: str) -> str:
    def swap(m: re.Match) -> str:
        word = m.group(0)
        lower = word.lower()
        new = NYNORSK.get(lower)
        if new is None and lower.startswith("bolig"):  # compounds: boligkontoret → bustadkontoret
            new = "bustad" + lower[5:]
        if new is None:
            return word
        return new[0].upper() + new[1:] if word[0].isupper() else new
    return _WORD.sub(swap, text)


def add_typos(text: str, u: Callable[..., float], n: int) -> str:
    """n deterministic typing errors: two letters swapped or one dropped in a word of six letters or more."""
    words = list(_WORD.finditer(text))
    long_words = [m for m in words if len(m.group(0)) >= 6]
    for i in range(min(n, len(long_words))):
        m = long_words[int(u("typo-word", str(i)) * len(long_words))]
        word = m.group(0)
        j = 1 + int(u("typo-pos", str(i)) * (len(word) - 3))
        wrong = word[:j] + word[j + 1] + word[j] + word[j + 2:] if u("typo-kind", str(i)) < 0.6 \
            else word[:j] + word[j + 1:]
        text = text[:m.start()] + wrong + text[m.end():]
        words = list(_WORD.finditer(text))
        long_words = [w for w in words if len(w.group(0)) >= 6]
    return text


def hostile(text: str, kind: str) -> str:
    """The cells that break naive pipelines: HTML, a formula, a very long answer, mojibake, stray quotes."""
    if kind == "html":
        return f"<p>{text}</p><br/><script>alert('x')</script>"
    if kind == "formula":  # a leading + or @ is read as a formula by spreadsheets and CSV importers
        return f'+HYPERLINK("http://eksempel.invalid";"Se plan") @SUM(1;2) {text}'
    if kind == "long":
        return " ".join([text] * 60)
    if kind == "mojibake":
        return text.encode("utf-8").decode("latin-1")
    return f'«{text}» – sitat: "{text[:40]}…"'


def answer_text(u: Callable[..., float], qid: str, goal: int, year: int, name: str, nynorsk: bool) -> str | None:
    """One open answer; u(*parts) is the municipality's and question's stable uniform."""
    if u("blank") < 0.02:
        return None
    if u("content-free") < 0.015:
        return ["-", "Se over.", "Ja", "Viser til svar på mål 2."][int(u("cf") * 4)]
    bank = BANK[goal]
    sentences = [s for i, (p, s) in enumerate(bank) if u("mention", str(i)) < p]
    if not sentences:
        sentences = [bank[int(u("fallback") * len(bank))][1]]
    if goal in NEGATED and u("negated") < 0.15:
        sentences.insert(int(u("neg-pos") * (len(sentences) + 1)), NEGATED[goal][0])
    if goal in NO_NEED and u("no-need") < NO_NEED[goal][0]:
        sentences = [NO_NEED[goal][1]] + sentences[:1]
    if qid.startswith("eval"):
        # the report: assessment questions are mostly answered with activities; a judgement comes first
        sentences = [ASSESSMENTS[int(u("assess") * len(ASSESSMENTS))]] + sentences[:2]
        opener = ""
    else:
        opener = OPENERS_ACT[int(u("opener") * len(OPENERS_ACT))]
    if u("list-style") < 0.2:
        text = opener + "\n".join("- " + s.rstrip(".") for s in sentences)
    else:
        text = opener + " ".join(sentences)
    text = text.format(k=name, year=year)
    if nynorsk:
        text = to_nynorsk(text)
    if u("typos") < 0.15:
        text = add_typos(text, u, 1 + int(u("n-typos") * 2))
    if u("hostile") < 0.012:
        text = hostile(text, ["html", "formula", "long", "mojibake", "quotes"][int(u("hostile-kind") * 5)])
    return text
