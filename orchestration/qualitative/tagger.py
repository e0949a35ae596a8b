"""Tag one answer: its themes with the words that signalled them (evidence), negated mentions kept apart,
a quotable sentence per theme, and whether the answer describes activities or assesses results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from orchestration.qualitative.taxonomy import COMPOUND_MIN_STEM, Taxonomy, Term, Theme, load
from orchestration.qualitative.text import Token, repair, safe_quote, sentences, tokens

SEPARATOR = " | "  # between evidence words in one column


@dataclass
class ThemeHit:
    theme_id: str
    evidence: list[str] = field(default_factory=list)          # the words as written, in order, unique
    negated_evidence: list[str] = field(default_factory=list)
    first_start: int | None = None                             # offset of the first counted match
    quote: str = ""

    @property
    def matched(self) -> bool:
        return bool(self.evidence)


@dataclass
class TaggedAnswer:
    text: str                      # repaired text
    themes: dict[str, ThemeHit]    # every theme with a match, counted or negated
    answer_type: str               # activity | assessment | both | unclear | empty
    activity_cues: list[str]
    assessment_cues: list[str]

    @property
    def matched_themes(self) -> list[str]:
        return [t for t, hit in self.themes.items() if hit.matched]


def _word_match(term_stem: str, token: Token, exact: bool, at_start: bool, at_end: bool) -> bool:
    if token.stem == term_stem or token.lower == term_stem:
        return True
    if exact or len(term_stem) < COMPOUND_MIN_STEM:
        return False
    # a compound: the term at its end (husleie|restanse) or its start (startlåns|midler)
    return (at_start and token.stem.endswith(term_stem)) or (at_end and token.stem.startswith(term_stem))


class Haystack:
    """One answer's tokens, indexed once, and the terms that may match it: a term's first word is looked up
    in the answer's words (whole-word terms) or among the taxonomy's stems found inside its word stems
    (compound-capable terms). Only these candidates get the token-by-token scan."""

    def __init__(self, toks: list[Token], tax: Taxonomy):
        self.toks = toks
        self.index = _index(tax)
        # a stem or a lowercased word → the positions of the tokens that have it, in order
        self.positions: dict[str, list[int]] = {}
        for i, t in enumerate(toks):
            self.positions.setdefault(t.stem, []).append(i)
            if t.lower != t.stem:
                self.positions.setdefault(t.lower, []).append(i)
        self.candidates: set[Term] = {term for w in self.positions for term in self.index.exact.get(w, ())}
        for word_stem in {t.stem for t in toks}:
            for found in self.index.stems_inside(word_stem):
                self.candidates.update(self.index.by_stem[found])

    def among(self, terms: tuple[Term, ...]) -> list[Term]:
        """The terms that may match, in their order: most themes have none, and are then not scanned."""
        return [term for term in terms if term in self.candidates]

    def may_match(self, theme: Theme) -> bool:
        return not self.candidates.isdisjoint(self.index.theme_terms[theme.id])


@dataclass(frozen=True)
class _Index:
    exact: dict[str, list[Term]]        # whole-word terms (and short stems) by their first stem
    by_stem: dict[str, list[Term]]      # compound-capable terms by their first stem
    stems_inside: Callable[[str], tuple[str, ...]]  # the by_stem keys found inside one word's stem
    theme_terms: dict[str, frozenset[Term]]
    negation_after: dict[str, list[tuple[str, ...]]]  # the phrases by their first word
    not_negating: dict[str, list[tuple[str, ...]]]


@lru_cache(maxsize=8)
def _index(tax: Taxonomy) -> _Index:
    terms = [t for theme in tax.themes for t in theme.terms + theme.exclude] \
        + list(tax.activity_cues) + list(tax.assessment_cues)
    exact: dict[str, list[Term]] = {}
    by_stem: dict[str, list[Term]] = {}
    for term in terms:
        first = term.stems[0]
        if term.exact or len(first) < COMPOUND_MIN_STEM:
            exact.setdefault(first, []).append(term)
        else:
            by_stem.setdefault(first, []).append(term)
    # overlapping stems (restans, husleierestans) must all be found: search each stem's occurrences
    # with a lookahead so one match does not consume another. A stem is one word, so a word's stem is
    # searched once per run (answers share their words), not once per answer.
    alternation = "|".join(re.escape(s) for s in sorted(by_stem, key=len, reverse=True))
    pattern = re.compile(f"(?=({alternation}))") if by_stem else None

    @lru_cache(maxsize=65536)
    def stems_inside(word_stem: str) -> tuple[str, ...]:
        return tuple(m.group(1) for m in pattern.finditer(word_stem)) if pattern is not None else ()

    def by_first_word(phrases):
        grouped: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            grouped.setdefault(phrase[0], []).append(phrase)
        return grouped

    return _Index(exact, by_stem, stems_inside, {t.id: frozenset(t.terms) for t in tax.themes},
                  by_first_word(tax.negation_after), by_first_word(tax.not_negating))


def find(term: Term, hay: Haystack) -> list[tuple[int, int]]:
    """Token spans [i, j) where the term matches; a phrase must not cross punctuation. Callers scan only the
    terms their Haystack lets through (`among`)."""
    toks = hay.toks
    n, first = len(term.stems), term.stems[0]
    # a cheap pre-filter before the exact rule: a match contains the term's first stem or equals it
    room = max(0, len(toks) - n + 1)  # where an n-word term can start (none in a shorter answer)
    if term.exact or len(first) < COMPOUND_MIN_STEM:
        starts = [i for i in hay.positions.get(first, ()) if i < room]
    else:
        starts = [i for i, t in enumerate(toks[:room]) if first in t.stem or t.lower == first]
    out = []
    for i in starts:
        if not _word_match(first, toks[i], term.exact, at_start=True, at_end=(n == 1)):
            continue
        if all(_word_match(term.stems[k], toks[i + k], term.exact, at_start=False, at_end=(k == n - 1))
               and not toks[i + k].boundary_before for k in range(1, n)):
            out.append((i, i + n))
    return out


def _starts_with(toks: list[Token], i: int, words: tuple[str, ...]) -> bool:
    return i + len(words) <= len(toks) and all(toks[i + k].lower == w for k, w in enumerate(words)) \
        and not any(toks[i + k].boundary_before for k in range(1, len(words)))


def negated(span: tuple[int, int], hay: Haystack, tax: Taxonomy) -> bool:
    toks, index = hay.toks, hay.index
    i, j = span
    # before: a negation word within the window, in the same clause
    k = i - 1
    while k >= 0 and i - k <= tax.window_before:
        if toks[k + 1].boundary_before or toks[k].lower in tax.clause_breaks:
            break
        if toks[k].lower in tax.negation_before \
                and not any(_starts_with(toks, k, p) for p in index.not_negating.get(toks[k].lower, ())):
            return True
        k -= 1
    # after: «… er ikke», «… har vi ikkje» right after the match
    if j < len(toks) and not toks[j].boundary_before:
        return any(_starts_with(toks, j, p) for p in index.negation_after.get(toks[j].lower, ()))
    return False


def _surface(text: str, toks: list[Token], span: tuple[int, int]) -> str:
    return text[toks[span[0]].start:toks[span[1] - 1].end]


def _add_unique(words: list[str], word: str) -> None:
    if word.lower() not in {w.lower() for w in words}:
        words.append(word)


def tag(text: object, goal: int, taxonomy: Taxonomy | None = None, asked_as: str = "activity") -> TaggedAnswer:
    """`asked_as` is what the question asks for (table 2.2): activity | assessment | instrument_assessment."""
    tax = taxonomy or load()
    clean = repair(text)
    toks = tokens(clean)
    if not toks:
        return TaggedAnswer(clean, {}, "empty", [], [])
    hits: dict[str, ThemeHit] = {}
    hay = Haystack(toks, tax)
    for theme in tax.themes_for_goal(goal):
        if not hay.may_match(theme):
            continue
        hit = _tag_theme(theme, clean, tax, hay)
        if hit is not None:
            hits[theme.id] = hit
    activity = _cues(tax.activity_cues, clean, hay)
    assessment = _cues(tax.assessment_cues, clean, hay)
    return TaggedAnswer(clean, hits, answer_type(len(activity), len(assessment), len(toks), asked_as),
                        activity, assessment)


def answer_type(n_activity: int, n_assessment: int, n_tokens: int, asked_as: str) -> str:
    """Activity, assessment, both or unclear. Answers mix the two (report 2.3), so one stray cue of the
    kind the question did not ask for is not enough to call an answer «both»; it takes two."""
    asked_activity = asked_as == "activity"
    if n_activity and n_assessment:
        if asked_activity:
            return "both" if n_assessment >= 2 else "activity"
        return "both" if n_activity >= 2 else "assessment"
    if n_assessment:
        return "assessment"
    if n_activity:
        return "activity"
    # no cue: a real description of what is done usually has none of the judging words
    return "activity" if asked_activity and n_tokens > 4 else "unclear"


def _tag_theme(theme: Theme, clean: str, tax: Taxonomy, hay: Haystack) -> ThemeHit | None:
    toks = hay.toks
    hit = ThemeHit(theme.id)
    spans: list[tuple[int, int]] = []
    for term in hay.among(theme.terms):
        spans += find(term, hay)
    if not spans:
        return None
    taken: set[int] = {k for term in hay.among(theme.exclude) for span in find(term, hay) for k in range(*span)}
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):  # longest match at a position wins
        if taken & set(range(*span)):
            continue
        taken |= set(range(*span))
        word = _surface(clean, toks, span)
        if not theme.negation_exempt and negated(span, hay, tax):
            _add_unique(hit.negated_evidence, word)
        else:
            _add_unique(hit.evidence, word)
            if hit.first_start is None:
                hit.first_start = toks[span[0]].start
    if hit.first_start is not None:
        start, end = next(((s, e) for s, e in sentences(clean) if s <= hit.first_start < e), (0, len(clean)))
        hit.quote = safe_quote(clean[start:end])
    return hit


def _cues(cues: tuple[Term, ...], clean: str, hay: Haystack) -> list[str]:
    found: list[str] = []
    for term in hay.among(cues):
        for span in find(term, hay):
            _add_unique(found, _surface(clean, hay.toks, span))
    return found
