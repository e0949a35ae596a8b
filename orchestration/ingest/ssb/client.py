"""Client for Statistics Norway's statistics bank API (PxWebApi v2, with v0 behind the same interface).

    client = SsbClient()                      # v2, base from $SSB_API_URL or data.ssb.no
    changed, updated = client.has_changed("12008", last_seen)
    if changed:
        rows = client.fetch_rows("12008", {"KOKkommuneregion0000": "*", "ContentsCode": [...], "Tid": "from(2015)"})

What it takes care of:
- v2 data via GET with `valueCodes[VAR]=…`; a URL longer than `max_url_length` is sent as a POST body
  instead, because the service answers 404 above about 2 100 characters.
- Cell limits: explicit code lists whose product exceeds the limit (`GET /config` `maxDataCells`, else
  800 000) are split before sending (Tid first, then the region dimension, then the largest list). A
  server that still refuses (400 «Too many cells selected», or 403 as older docs and v0 say) gets the
  largest explicit list halved, recursively. Expressions like `*` cannot be split: select code lists.
- Retries: 429 waits `Retry-After` (else exponential backoff); 502/503/504, connection errors and
  timeouts back off exponentially with jitter, up to `max_retries`. `x-ratelimit-remaining: 0` pauses
  for the policy window (`x-ratelimit-policy: 40;w=60s`) before the next call. All waits go through the
  injectable `sleep`.
- Other 400s («Non-existent value», …) are query bugs: `SsbQueryError`, no retry.

Change detection: v2 `GET /tables/{id}` carries `updated`. v0 has no such field: `table_info` then
returns `updated=None`, `has_changed` answers `(True, None)`, and callers fall back to comparing the
fetched data's own root `updated` (the `table_updated` column of `fetch_rows`).

v0 notes: `from(x)`, `to(x)` and `range(x,y)` are resolved against the table's metadata into an
`item` list (v0 has no such filters); `*`/wildcards become `all`, `top(n)` becomes `top`; a codelist
`agg_X`/`vs_X` becomes the filter `agg:X`/`vs:X`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fnmatch
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pandas as pd
import requests

from orchestration.ingest.ssb.jsonstat import REGION_DIMENSIONS, JsonStatError, empty_frame, parse_jsonstat2

log = logging.getLogger(__name__)

DEFAULT_V2_URL = "https://data.ssb.no/api/pxwebapi/v2"
DEFAULT_V0_URL = "https://data.ssb.no/api/v0/no"
DEFAULT_MAX_CELLS = 800_000
REQUIRED_VARIABLES = ("Tid", "ContentsCode")
RETRY_STATUSES = frozenset({502, 503, 504})
MAX_BACKOFF = 120.0
MAX_SPLIT_DEPTH = 24
DEFAULT_RATE_WINDOW = 60.0

Selection = Mapping[str, Sequence[str] | str]


class SsbError(RuntimeError):
    """The SSB API could not deliver (after retries), or delivered something unusable."""


class SsbQueryError(SsbError):
    """The query itself is wrong (unknown table, variable or value): retrying will not help."""


class _TooManyCells(SsbError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _split_tokens(text: str) -> list[str]:
    """`a,b,[range(x,y)]` → tokens; brackets protect commas inside an expression."""
    return [t.strip() for t in re.findall(r"\[[^\]]*\]|[^,]+", text) if t.strip()]


def _unbracket(token: str) -> str:
    return token[1:-1] if token.startswith("[") and token.endswith("]") else token


def _instant(value: str) -> dt.datetime | str:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


def _policy_window(policy: str | None) -> float | None:
    """`40;w=60s` → 60.0"""
    m = re.search(r"w=(\d+(?:\.\d+)?)", policy or "")
    return float(m.group(1)) if m else None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


class SsbClient:
    """One client for both API generations; `api="v2"` (default) or `api="v0"`."""

    def __init__(
        self,
        base_url: str | None = None,
        api: str = "v2",
        session: requests.Session | None = None,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        timeout: float = 60,
        max_cells: int | None = None,
        max_url_length: int = 2000,
        lang: str = "no",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if api not in ("v2", "v0"):
            raise ValueError(f"api must be 'v2' or 'v0', not {api!r}")
        self.api = api
        self.lang = lang
        self.base_url = (base_url or self._default_base(api, lang)).rstrip("/")
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/json"
        self.session = session
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.timeout = timeout
        self.max_url_length = max_url_length
        self.sleep = sleep
        self._max_cells = max_cells
        self._pause_until = 0.0
        self._v0_metadata: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _default_base(api: str, lang: str) -> str:
        v2 = os.environ.get("SSB_API_URL") or DEFAULT_V2_URL
        if api == "v2":
            return v2
        if os.environ.get("SSB_API_V0_URL"):
            return os.environ["SSB_API_V0_URL"]
        # Derive the v0 base from a v2 one (same host, e.g. a replay server): …/pxwebapi/v2 → …/v0/no
        if "/pxwebapi/v2" in v2:
            return v2.split("/pxwebapi/v2")[0] + f"/v0/{lang}"
        return DEFAULT_V0_URL

    # -- metadata --------------------------------------------------------------------------------
    @property
    def max_cells(self) -> int:
        """Cells per request: the constructor's value, else v2 `GET /config` `maxDataCells` (cached)."""
        if self._max_cells is None:
            limit = DEFAULT_MAX_CELLS
            if self.api == "v2":
                try:
                    limit = int(self.config().get("maxDataCells") or DEFAULT_MAX_CELLS)
                except (SsbError, AttributeError, TypeError, ValueError) as exc:
                    log.warning("SSB /config unreadable (%s); assuming %d cells per request", exc, limit)
            self._max_cells = limit
        return self._max_cells

    def config(self) -> dict[str, Any]:
        """v2 `GET /config` (limits, languages, formats)."""
        if self.api != "v2":
            return {"maxDataCells": DEFAULT_MAX_CELLS}
        return self._get_json("/config", table_id="config")

    def table_info(self, table_id: str) -> dict[str, Any]:
        """v2 `GET /tables/{id}` (has `updated`); v0 `GET /table/{id}` with `updated=None` added."""
        if self.api == "v2":
            return self._get_json(f"/tables/{quote(table_id)}", table_id, {"lang": self.lang})
        meta = self._v0_meta(table_id)
        return {**meta, "id": table_id, "label": meta.get("title"), "updated": None}

    def metadata(self, table_id: str) -> dict[str, Any]:
        """v2 json-stat2 metadata (`value` empty); v0 `{"title","variables":[…]}`."""
        if self.api == "v2":
            params = {"lang": self.lang, "outputFormat": "json-stat2"}
            return self._get_json(f"/tables/{quote(table_id)}/metadata", table_id, params)
        return self._v0_meta(table_id)

    def has_changed(self, table_id: str, last_updated: str | None) -> tuple[bool, str | None]:
        """(changed?, the table's current `updated`). Under v0 always (True, None): see module doc."""
        return self.changed_since(self.table_info(table_id), last_updated)

    @staticmethod
    def changed_since(info: Mapping[str, Any], last_updated: str | None) -> tuple[bool, str | None]:
        """`has_changed` for a `table_info` answer already in hand (one request instead of two)."""
        updated = info.get("updated")
        if updated is None or last_updated is None:
            return True, updated
        return _instant(str(updated)) != _instant(str(last_updated)), updated

    # -- data ------------------------------------------------------------------------------------
    def fetch(
        self, table_id: str, selection: Selection, codelists: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The json-stat2 documents answering `selection`, one per sub-query after splitting.

        `selection` maps each variable to a list of codes (list items may be expressions) or to one
        expression string (`"*"`, `"from(2015)"`, `"[range(2015,2024)]"`; a string is sent as is, so
        bracket expressions holding a comma). `Tid` and `ContentsCode` are required. `codelists` maps
        a variable to a codelist id (`agg_…`/`vs_…`).
        """
        sel = self._normalise(selection)
        codelists = dict(codelists or {})
        if self.api == "v0":
            sel = self._v0_resolve(table_id, sel, codelists)
        docs: list[dict[str, Any]] = []
        for part in self.plan(sel):
            docs.extend(self._fetch_split(table_id, part, codelists, depth=0))
        return docs

    def fetch_rows(
        self, table_id: str, selection: Selection, codelists: Mapping[str, str] | None = None
    ) -> pd.DataFrame:
        """`fetch` + `parse_jsonstat2` + concat: one row per cell (see `jsonstat.COLUMNS`)."""
        frames = []
        for doc in self.fetch(table_id, selection, codelists):
            try:
                frames.append(parse_jsonstat2(doc, table_id))
            except JsonStatError as exc:
                raise SsbError(f"SSB table {table_id}: the response is not usable JSON-stat 2.0: {exc}") from exc
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else empty_frame()

    def plan(self, selection: Mapping[str, list[str] | str]) -> list[dict[str, list[str] | str]]:
        """Split a normalised selection's explicit code lists so each part stays within `max_cells`.

        Tid is split first, then the region dimension, then the largest list; expressions stay whole.
        """
        limit = self.max_cells
        cells = self._cells(selection)
        if cells <= limit:
            return [dict(selection)]
        lists = {k: v for k, v in selection.items() if isinstance(v, list) and len(v) > 1}
        if not lists:
            return [dict(selection)]
        preferred = [d for d in ("Tid", *REGION_DIMENSIONS) if d in lists]
        dim = preferred[0] if preferred else max(lists, key=lambda k: len(lists[k]))
        values = lists[dim]
        per_value = cells // len(values)
        chunk = max(1, limit // per_value)
        parts: list[dict[str, list[str] | str]] = []
        for i in range(0, len(values), chunk):
            parts.extend(self.plan({**selection, dim: values[i : i + chunk]}))
        return parts

    @staticmethod
    def _cells(selection: Mapping[str, list[str] | str]) -> int:
        # Expressions count as one: a lower bound, so a proactive split is always warranted.
        return math.prod(len(v) if isinstance(v, list) else 1 for v in selection.values())

    @staticmethod
    def _normalise(selection: Selection) -> dict[str, list[str] | str]:
        missing = [v for v in REQUIRED_VARIABLES if v not in selection]
        if missing:
            raise ValueError(f"SSB selections must include {' and '.join(REQUIRED_VARIABLES)}; missing {missing}")
        out: dict[str, list[str] | str] = {}
        for var, value in selection.items():
            if isinstance(value, str):
                if not value.strip():
                    raise ValueError(f"empty selection for {var}")
                out[var] = value.strip()
            else:
                codes = [str(c) for c in value]
                if not codes:
                    raise ValueError(f"empty selection for {var}")
                out[var] = list(dict.fromkeys(codes))  # duplicates would only inflate the cell count
        return out

    def _fetch_split(
        self, table_id: str, sel: dict[str, list[str] | str], codelists: dict[str, str], depth: int
    ) -> list[dict[str, Any]]:
        try:
            return [self._fetch_once(table_id, sel, codelists)]
        except _TooManyCells as exc:
            lists = {k: v for k, v in sel.items() if isinstance(v, list) and len(v) > 1}
            if not lists or depth >= MAX_SPLIT_DEPTH:
                raise SsbError(
                    f"SSB table {table_id}: the server refused the selection as too large ({exc}) and there is "
                    "no explicit code list left to split; select code lists instead of expressions like '*'"
                ) from exc
            order = ("Tid", *REGION_DIMENSIONS)
            dim = max(lists, key=lambda k: (len(lists[k]), -order.index(k) if k in order else -len(order)))
            values = lists[dim]
            half = len(values) // 2
            log.info("SSB table %s: too many cells (%s); halving %s (%d codes)", table_id, exc.status, dim, len(values))
            return [
                doc
                for part in (values[:half], values[half:])
                for doc in self._fetch_split(table_id, {**sel, dim: part}, codelists, depth + 1)
            ]

    def _fetch_once(self, table_id: str, sel: dict[str, list[str] | str], codelists: dict[str, str]) -> dict[str, Any]:
        cells = self._cells(sel)
        if self.api == "v0":
            body = {"query": self._v0_query(sel, codelists), "response": {"format": "json-stat2"}}
            resp, url = self._request("POST", f"/table/{quote(table_id)}", table_id, json_body=body, cells=cells)
        else:
            path = f"/tables/{quote(table_id)}/data"
            base_params = [("lang", self.lang), ("outputFormat", "json-stat2")]
            params = list(base_params)
            for var, value in sel.items():
                if isinstance(value, str):
                    params.append((f"valueCodes[{var}]", value))
                else:  # an expression with a comma must be bracketed in a URL
                    codes = [f"[{c}]" if "," in c and not c.startswith("[") else c for c in value]
                    params.append((f"valueCodes[{var}]", ",".join(codes)))
            params += [(f"codelist[{var}]", cl) for var, cl in codelists.items()]
            if len(self._url(path, params)) <= self.max_url_length:
                resp, url = self._request("GET", path, table_id, params=params, cells=cells)
            else:  # the service answers 404 to long URLs: the selection goes into the body
                body = {"selection": [self._v2_body_item(var, value, codelists.get(var)) for var, value in sel.items()]}
                resp, url = self._request("POST", path, table_id, params=base_params, json_body=body, cells=cells)
        doc = self._decode(resp, table_id, url, data=True)
        if not isinstance(doc, dict) or not all(k in doc for k in ("id", "size", "dimension", "value")):
            raise SsbError(f"SSB table {table_id}: {url} did not answer with a JSON-stat 2.0 dataset")
        return doc

    @staticmethod
    def _v2_body_item(var: str, value: list[str] | str, codelist: str | None) -> dict[str, Any]:
        tokens = _split_tokens(value) if isinstance(value, str) else value
        codes = [_unbracket(t) for t in tokens]
        item: dict[str, Any] = {"variableCode": var, "valueCodes": codes}
        if codelist:
            item["codelist"] = codelist
        return item

    # -- v0 --------------------------------------------------------------------------------------
    def _v0_meta(self, table_id: str) -> dict[str, Any]:
        if table_id not in self._v0_metadata:
            self._v0_metadata[table_id] = self._get_json(f"/table/{quote(table_id)}", table_id)
        return self._v0_metadata[table_id]

    def _v0_resolve(
        self, table_id: str, sel: dict[str, list[str] | str], codelists: Mapping[str, str]
    ) -> dict[str, list[str] | str]:
        """Turn expressions v0 lacks (from/to/range, lists of expressions) into explicit code lists."""
        out: dict[str, list[str] | str] = {}
        for var, value in sel.items():
            tokens = [_unbracket(t) for t in (_split_tokens(value) if isinstance(value, str) else value)]
            simple = len(tokens) == 1 and (
                "*" in tokens[0] or "?" in tokens[0] or re.fullmatch(r"(?i)top\(\d+\)", tokens[0])
            )
            plain = not any(re.search(r"[*?()]", t) for t in tokens)
            if var in codelists or simple:
                out[var] = value
            elif plain:
                out[var] = tokens
            else:
                out[var] = self._v0_expand(table_id, var, tokens)
        return out

    def _v0_expand(self, table_id: str, var: str, tokens: list[str]) -> list[str]:
        variables = {v["code"]: v for v in self._v0_meta(table_id).get("variables", [])}
        if var not in variables:
            raise SsbQueryError(f"SSB table {table_id}: no variable {var!r} (has {sorted(variables)})")
        codes = [str(c) for c in variables[var].get("values", [])]
        is_time = bool(variables[var].get("time"))
        pos = {c: i for i, c in enumerate(codes)}

        def at(code: str) -> int:
            if code not in pos:
                raise SsbQueryError(f"SSB table {table_id}: Non-existent value {code!r} for {var}")
            return pos[code]

        chosen: set[int] = set()
        for token in tokens:
            m = re.fullmatch(r"(?i)(from|to|range|top|bottom)\((.*)\)", token)
            args = [a.strip() for a in m.group(2).split(",")] if m else []
            func = m.group(1).lower() if m else ""
            if func == "from":
                chosen.update(range(at(args[0]), len(codes)))
            elif func == "to":
                chosen.update(range(at(args[0]) + 1))
            elif func == "range":
                lo, hi = sorted((at(args[0]), at(args[1])))
                chosen.update(range(lo, hi + 1))
            elif func in ("top", "bottom"):
                order = list(range(len(codes)))
                if (func == "top") == is_time:  # periods are listed oldest first; top = latest
                    order.reverse()
                offset = int(args[1]) if len(args) > 1 else 0
                chosen.update(order[offset : offset + int(args[0])])
            elif "*" in token or "?" in token:
                chosen.update(i for i, c in enumerate(codes) if fnmatch.fnmatchcase(c, token))
            else:
                chosen.add(at(token))
        return [codes[i] for i in sorted(chosen)]

    @staticmethod
    def _v0_query(sel: Mapping[str, list[str] | str], codelists: Mapping[str, str]) -> list[dict[str, Any]]:
        query = []
        for var, value in sel.items():
            values = list(value) if isinstance(value, list) else [_unbracket(t) for t in _split_tokens(value)]
            if var in codelists:  # agg_X → agg:X, vs_X → vs:X
                flt = re.sub(r"^(agg|vs)_", r"\1:", codelists[var])
            elif isinstance(value, str) and (m := re.fullmatch(r"(?i)top\((\d+)\)", value)):
                flt, values = "top", [m.group(1)]
            elif isinstance(value, str) and ("*" in value or "?" in value):
                flt = "all"
            else:
                flt = "item"
            query.append({"code": var, "selection": {"filter": flt, "values": values}})
        return query

    # -- HTTP ------------------------------------------------------------------------------------
    def _url(self, path: str, params: Sequence[tuple[str, str]] | None = None) -> str:
        url = self.base_url + path
        if params:
            # Commas and parentheses are legal in a query: leaving them unescaped keeps URLs short.
            url += "?" + urlencode(list(params), safe=",()*:")
        return url

    def _get_json(self, path: str, table_id: str, params: Mapping[str, str] | None = None) -> Any:
        resp, url = self._request("GET", path, table_id, params=list((params or {}).items()))
        return self._decode(resp, table_id, url, data=False)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_base * 2**attempt, MAX_BACKOFF)
        return delay + random.uniform(0, delay / 2)

    def _request(
        self,
        method: str,
        path: str,
        table_id: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
        cells: int | None = None,
    ) -> tuple[requests.Response, str]:
        """Send with retries; returns the first response that is not 429/502/503/504."""
        url = self._url(path, params)
        shown_cells = "-" if cells is None else cells
        last = "no answer"
        for attempt in range(self.max_retries + 1):
            wait = self._pause_until - time.monotonic()
            if wait > 0:
                log.info("SSB rate limit reached: pausing %.1f s", wait)
                self.sleep(wait)
            self._pause_until = 0.0
            started = time.monotonic()
            try:
                resp = self.session.request(method, url, json=json_body, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("SSB %s %s cells=%s -> %s", method, path, shown_cells, type(exc).__name__)
                if attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                continue
            elapsed = time.monotonic() - started
            log.info("SSB %s %s cells=%s -> %s (%.2f s)", method, path, shown_cells, resp.status_code, elapsed)
            self._note_rate_limit(resp.headers)
            last = f"HTTP {resp.status_code}"
            if resp.status_code == 429:
                if attempt < self.max_retries:
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                    self.sleep(retry_after if retry_after is not None else self._backoff(attempt))
                continue
            if resp.status_code in RETRY_STATUSES:
                if attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                continue
            return resp, url
        raise SsbError(
            f"SSB table {table_id}: gave up after {self.max_retries + 1} attempts of {method} {url}; last: {last}"
        )

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is None:
            return
        try:
            exhausted = int(float(remaining)) <= 0
        except ValueError:
            return
        if exhausted:
            window = _policy_window(headers.get("x-ratelimit-policy")) or DEFAULT_RATE_WINDOW
            log.info(
                "SSB rate limit %s used up (policy %s): next call waits %.0f s",
                headers.get("x-ratelimit-limit", "?"),
                headers.get("x-ratelimit-policy", "?"),
                window,
            )
            self._pause_until = time.monotonic() + window

    @staticmethod
    def _decode(resp: requests.Response, table_id: str, url: str, *, data: bool) -> Any:
        status = resp.status_code
        if status == 200:
            try:
                return resp.json()
            except ValueError as exc:
                raise SsbError(f"SSB table {table_id}: malformed JSON from {url}: {exc}") from exc
        text = resp.text.strip()
        message = text[:500]
        try:
            problem = resp.json()
            if isinstance(problem, dict) and problem.get("title"):
                message = " — ".join(str(problem[k]) for k in ("title", "detail") if problem.get(k))
        except ValueError:
            pass
        where = f"{resp.request.method if resp.request else ''} {urlsplit(url).path}".strip()
        if data and (status == 403 or (status == 400 and re.search(r"(?i)too many (cells|values)", text))):
            raise _TooManyCells(f"HTTP {status}: {message}", status)
        if status in (400, 404):
            hint = " (unknown table, or a URL too long)" if status == 404 else ""
            raise SsbQueryError(f"SSB table {table_id}: {where} answered {status}{hint}: {message}")
        raise SsbError(f"SSB table {table_id}: {where} answered {status}: {message} ({url})")
