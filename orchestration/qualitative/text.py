"""Free text from outside, made safe and comparable: repair, clean, tokenise, stem (Snowball Norwegian)."""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

MAX_CHARS = 20_000  # longer answers are cut here: nobody writes more, and the tagger stays linear
QUOTE_CHARS = 300

# Typical UTF-8-read-as-Latin-1/CP1252 sequences (Ã¸ for ø, Ã¥ for å, â€™ for ’).
_MOJIBAKE = re.compile(r"Ã[\x80-\xbf¡-ÿ]|â€|Â[\xa0-\xbf]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACES = re.compile(r"[ \u00a0]+")
_NEWLINE = re.compile(r"\s*\n\s*")
_BULLET = re.compile(r"^[-*•–]\s+")
_BOUNDARY = re.compile(r"[.,;:!?()\n«»\"]")  # between two words: they are not one phrase
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[«\"(A-ZÆØÅ0-9])|\n+")
# Personal data has no place in a quote: fødselsnummer, e-mail addresses, phone numbers.
_PERSONAL = re.compile(r"\b\d{6}\s?\d{5}\b|[\w.+-]+@[\w-]+\.[\w.-]+|(?<!\d)(?<!\d[,.])(?:\+47\s?)?\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?!\d|[,.]\d)")


def repair(value: object) -> str:
    """Text as a person wrote it: None/NaN → '', mojibake undone, NFC, no control characters, HTML tags
    and entities dropped, whitespace collapsed, at most MAX_CHARS characters."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bytes):
        value = _decode(value)
    text = str(value)
    # lone surrogates (bad decoding upstream) cannot be stored in DuckDB's UTF-8
    text = text.encode("utf-8", "replace").decode("utf-8")
    if _MOJIBAKE.search(text):
        for codec in ("cp1252", "latin-1"):
            try:
                text = text.encode(codec).decode("utf-8")
                break
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
    text = unicodedata.normalize("NFC", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    text = _SPACES.sub(" ", text)
    text = _NEWLINE.sub("\n", text).strip()
    return text[:MAX_CHARS]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def safe_quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """A sentence fit to print anywhere: one line, personal data masked, cut at a word boundary, and never
    read as a spreadsheet formula (a leading = + - @ gets an apostrophe)."""
    text = _PERSONAL.sub("[fjernet]", repair(text).replace("\n", " "))
    text = _BULLET.sub("", text)  # a list bullet is not part of the quote
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a repaired text."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


@dataclass(frozen=True)
class Token:
    text: str     # as written
    lower: str
    stem: str
    start: int
    end: int
    boundary_before: bool  # punctuation or a clause break between this token and the previous one


# A Snowball stemmer keeps its word in its own state, so two threads (dbt runs the two Python models that
# tag answers side by side) each need their own.
_STEMMERS = threading.local()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    stemmer = getattr(_STEMMERS, "norwegian", None)
    if stemmer is None:
        stemmer = _STEMMERS.norwegian = snowballstemmer.stemmer("norwegian")
    return stemmer.stemWord(word.lower())


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    prev_end = 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        gap = text[prev_end:m.start()]
        out.append(Token(word, word.lower(), stem(word), m.start(), m.end(),
                         boundary_before=_BOUNDARY.search(gap) is not None))
        prev_end = m.end()
    return out
