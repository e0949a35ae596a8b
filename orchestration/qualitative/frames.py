"""The tagger over a table of answers, as frames for dbt's Python models (models/intermediate/qualitative/).

Input: `staging.stg_programme__report_answers` as a pandas frame. Only open questions (answer_kind =
'text') are read. Types are explicit so an empty input still gives typed, empty tables.
"""

from __future__ import annotations

import html
from functools import lru_cache

import pandas as pd

from orchestration.qualitative.tagger import SEPARATOR, TaggedAnswer, tag
from orchestration.qualitative.taxonomy import Taxonomy, load
from orchestration.qualitative.text import repair

KEYS = {"report_year": "Int64", "municipality_code": "string", "question_id": "string", "goal_id": "Int64"}
ANSWER_COLUMNS = {**KEYS, "municipality_name": "string", "asked_as": "string", "answer_type": "string",
                  "answer_text": "string", "n_chars": "Int64", "is_empty": "boolean", "text_repaired": "boolean",
                  "activity_cues": "string", "assessment_cues": "string", "n_themes": "Int64",
                  "synthetic": "boolean"}
THEME_COLUMNS = {**KEYS, "theme_id": "string", "is_match": "boolean", "evidence": "string",
                 "negated_evidence": "string", "n_evidence": "Int64", "quote_text": "string",
                 "quote_html": "string", "synthetic": "boolean"}
TAXONOMY_COLUMNS = {"theme_id": "string", "goal_id": "Int64", "theme_name": "string", "description": "string",
                    "predicate": "string", "terms": "string", "negation_exempt": "boolean"}


def _typed(records: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    return frame.astype(columns)


def _open_answers(answers: pd.DataFrame) -> pd.DataFrame:
    if answers.empty:
        return answers
    return answers[answers["answer_kind"] == "text"]


@lru_cache(maxsize=50_000)  # the two Python models run in one dbt process: tag each answer once
def _tag_cached(text: str | None, goal: int, tax: Taxonomy, asked: str) -> TaggedAnswer:
    return tag(text, goal, tax, asked)


def _tagged(answers: pd.DataFrame, tax: Taxonomy):
    for row in _open_answers(answers).itertuples(index=False):
        raw = row.answer_text if isinstance(row.answer_text, str) else None
        asked = tax.question_kind(row.question_id)
        yield row, raw, asked, _tag_cached(raw, int(row.goal_id), tax, asked)


def answer_frame(answers: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """One row per open answer (also the empty ones): its type, cleaned text and number of themes."""
    tax = taxonomy or load()
    records = []
    for row, raw, asked, tagged in _tagged(answers, tax):
        records.append({
            "report_year": row.report_year, "municipality_code": row.municipality_code,
            "question_id": row.question_id, "goal_id": row.goal_id, "municipality_name": row.municipality_name,
            "asked_as": asked, "answer_type": tagged.answer_type, "answer_text": tagged.text,
            "n_chars": len(tagged.text), "is_empty": tagged.answer_type == "empty",
            "text_repaired": raw is not None and tagged.text != raw.strip(),
            "activity_cues": SEPARATOR.join(tagged.activity_cues),
            "assessment_cues": SEPARATOR.join(tagged.assessment_cues),
            "n_themes": len(tagged.matched_themes), "synthetic": bool(row.synthetic),
        })
    return _typed(records, ANSWER_COLUMNS)


def theme_frame(answers: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """One row per open answer and theme mentioned: counted (is_match) or only negated, with evidence."""
    tax = taxonomy or load()
    records = []
    for row, _raw, _asked, tagged in _tagged(answers, tax):
        for theme_id, hit in tagged.themes.items():
            records.append({
                "report_year": row.report_year, "municipality_code": row.municipality_code,
                "question_id": row.question_id, "goal_id": row.goal_id, "theme_id": theme_id,
                "is_match": hit.matched, "evidence": SEPARATOR.join(hit.evidence),
                "negated_evidence": SEPARATOR.join(hit.negated_evidence), "n_evidence": len(hit.evidence),
                "quote_text": hit.quote or None, "quote_html": html.escape(hit.quote) if hit.quote else None,
                "synthetic": bool(row.synthetic),
            })
    return _typed(records, THEME_COLUMNS)


def taxonomy_frame(taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The taxonomy as a table: one row per theme and goal it is looked for in."""
    tax = taxonomy or load()
    records = [{"theme_id": t.id, "goal_id": goal, "theme_name": repair(t.name), "description": repair(t.description),
                "predicate": repair(t.predicate), "terms": SEPARATOR.join(term.text for term in t.terms),
                "negation_exempt": t.negation_exempt}
               for t in tax.themes for goal in sorted(t.goals)]
    return _typed(records, TAXONOMY_COLUMNS)
