"""The theme taxonomy (config/qualitative_themes.yaml), loaded, validated and compiled to stemmed terms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from orchestration import settings
from orchestration.qualitative.text import tokens

CONFIG_PATH = Path(__file__).resolve().parents[1] / "config" / "qualitative_themes.yaml"
GOALS = range(1, 16)
QUESTION_KINDS = ("activity", "assessment", "instrument_assessment")
COMPOUND_MIN_STEM = 5  # shorter stems match whole words only (nav ≠ navn, plan ≠ planlegge)


@dataclass(frozen=True, eq=False)  # hashed by identity: the tagger looks terms up millions of times per run
class Term:
    text: str                 # as written in the taxonomy
    stems: tuple[str, ...]
    exact: bool               # `=term`: whole words only


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    description: str
    goals: frozenset[int]
    predicate: str
    terms: tuple[Term, ...]
    negation_exempt: bool = False
    exclude: tuple[Term, ...] = ()


@dataclass(frozen=True, eq=False)  # hashed by identity: load() returns one object per file
class Taxonomy:
    themes: tuple[Theme, ...]
    question_kinds: dict[str, str]
    negation_before: frozenset[str]
    negation_after: tuple[tuple[str, ...], ...]
    window_before: int
    not_negating: tuple[tuple[str, ...], ...]
    clause_breaks: frozenset[str]
    assessment_cues: tuple[Term, ...]
    activity_cues: tuple[Term, ...]

    def themes_for_goal(self, goal: int) -> tuple[Theme, ...]:
        return tuple(t for t in self.themes if goal in t.goals)

    def question_kind(self, question_id: str) -> str:
        if question_id in self.question_kinds:
            return self.question_kinds[question_id]
        return "assessment" if question_id.startswith("eval") else "activity"


def compile_term(text: str) -> Term:
    exact = text.startswith("=")
    words = tokens(text.lstrip("="))
    if not words:
        raise ValueError(f"term {text!r} has no words")
    return Term(text, tuple(w.stem for w in words), exact)


def load(path: Path = CONFIG_PATH) -> Taxonomy:
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> Taxonomy:
    config = settings.read_yaml(path)
    problems: list[str] = []
    themes = []
    for theme_id, spec in (config.get("themes") or {}).items():
        missing = [k for k in ("name", "description", "goals", "predicate", "terms") if not spec.get(k)]
        if missing:
            problems.append(f"theme {theme_id}: missing {', '.join(missing)}")
            continue
        goals = list(GOALS) if spec["goals"] == "all" else spec["goals"]
        if not isinstance(goals, list) or any(not isinstance(g, int) or g not in GOALS for g in goals):
            problems.append(f"theme {theme_id}: goals must be 'all' or a list of 1–15, got {spec['goals']!r}")
            continue
        try:
            terms = tuple(compile_term(str(t)) for t in spec["terms"])
        except ValueError as err:
            problems.append(f"theme {theme_id}: {err}")
            continue
        themes.append(Theme(theme_id, spec["name"], spec["description"], frozenset(goals), spec["predicate"],
                            terms, bool(spec.get("negation_exempt", False)),
                            tuple(compile_term(str(t)) for t in spec.get("exclude") or ())))
    kinds = config.get("question_kinds") or {}
    problems += [f"question_kinds.{q}: {k!r} is not one of {QUESTION_KINDS}" for q, k in kinds.items()
                 if k not in QUESTION_KINDS]
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    neg = config["negation"]
    cues = config["answer_type_cues"]
    return Taxonomy(
        themes=tuple(themes), question_kinds=dict(kinds),
        negation_before=frozenset(w.lower() for w in neg["before"]),
        negation_after=tuple(tuple(w.lower() for w in p.split()) for p in neg["after"]),
        window_before=int(neg["window_before"]),
        not_negating=tuple(tuple(w.lower() for w in p.split()) for p in neg.get("not_negating", [])),
        clause_breaks=frozenset(w.lower() for w in neg.get("clause_breaks", [])),
        assessment_cues=tuple(compile_term(str(t)) for t in cues["assessment"]),
        activity_cues=tuple(compile_term(str(t)) for t in cues["activity"]),
    )
