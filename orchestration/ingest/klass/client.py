"""Client for SSB's classification API KLASS (municipalities, their changes, KOSTRA groups).

Only the four calls the warehouse needs: `codesAt`, `codes`, `changes` and `correspondsAt`. Every
call asks for JSON explicitly, because KLASS answers CSV in ISO-8859-1 when no `Accept` is sent.
Transient failures (5xx, 429, timeouts, dropped connections) are retried with exponential backoff;
a 4xx is a bug in the request and fails at once with a `KlassError` naming the URL and the status.
Responses are returned as parsed JSON; unknown keys (our extract carries `_provenance`) are ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from orchestration import settings

MUNICIPALITIES = 131
KOSTRA_GROUPS = 112
# KLASS lists 9999 «Uoppgitt» (unspecified) among the municipalities; it is not one.
UNSPECIFIED_MUNICIPALITY = "9999"

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class KlassError(RuntimeError):
    """A KLASS call failed for good: a 4xx, or a transient error that outlived the retries."""

    def __init__(self, url: str, status: int | None, detail: str = "") -> None:
        self.url = url
        self.status = status
        self.detail = detail
        what = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"KLASS request failed ({what}): {url}" + (f" — {detail}" if detail else ""))


class KlassClient:
    def __init__(
        self,
        base_url: str | None = None,
        session: requests.Session | None = None,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        backoff: float = 1.0,
    ) -> None:
        self.base_url = (base_url or settings.klass_api_url()).rstrip("/")
        self.session = session or requests.Session()
        self.max_retries = max_retries
        self.sleep = sleep
        self.timeout = timeout
        self.backoff = backoff

    # -- raw endpoints -------------------------------------------------------------------------

    def codes_at(self, classification_id: int, date: str) -> list[dict[str, Any]]:
        """`GET /classifications/{id}/codesAt?date=` → the codes valid on that date."""
        doc = self._get(f"/classifications/{classification_id}/codesAt", {"date": date})
        return list(doc.get("codes", []))

    def codes(self, classification_id: int, from_date: str, to_date: str) -> list[dict[str, Any]]:
        """`GET /classifications/{id}/codes?from=&to=` (`to` exclusive), with the in-range validity."""
        doc = self._get(
            f"/classifications/{classification_id}/codes", {"from": from_date, "to": to_date}
        )
        return list(doc.get("codes", []))

    def changes(self, classification_id: int, from_date: str, to_date: str) -> list[dict[str, Any]]:
        """`GET /classifications/{id}/changes?from=&to=` → `codeChanges` (merge: several rows with one
        newCode; split: several rows with one oldCode; renumbering: one row)."""
        doc = self._get(
            f"/classifications/{classification_id}/changes", {"from": from_date, "to": to_date}
        )
        return list(doc.get("codeChanges", []))

    def corresponds_at(self, source_id: int, target_id: int, date: str) -> list[dict[str, Any]]:
        """`GET /classifications/{source}/correspondsAt?targetClassificationId=&date=`."""
        doc = self._get(
            f"/classifications/{source_id}/correspondsAt",
            {"targetClassificationId": str(target_id), "date": date},
        )
        return list(doc.get("correspondenceItems", []))

    # -- conveniences --------------------------------------------------------------------------

    def municipalities_at(self, date: str) -> list[dict[str, Any]]:
        """Municipalities (131) valid on `date`, without KLASS's 9999 «Uoppgitt»."""
        return [c for c in self.codes_at(MUNICIPALITIES, date) if c.get("code") != UNSPECIFIED_MUNICIPALITY]

    def municipality_changes(self, from_date: str, to_date: str) -> list[dict[str, Any]]:
        return self.changes(MUNICIPALITIES, from_date, to_date)

    def kostra_groups_at(self, date: str) -> list[dict[str, Any]]:
        return self.codes_at(KOSTRA_GROUPS, date)

    def kostra_membership_at(self, date: str) -> dict[str, str]:
        """municipality code → KOSTRA group code (EKGxx), from the 112 → 131 correspondence."""
        items = self.corresponds_at(KOSTRA_GROUPS, MUNICIPALITIES, date)
        return {i["targetCode"]: i["sourceCode"] for i in items}

    # -- transport -----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        url = self.base_url + path
        last_status: int | None = None
        last_detail = ""
        retry_after: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.sleep(self._delay(attempt, retry_after))
            retry_after = None
            try:
                resp = self.session.get(
                    url, params=dict(params), headers={"Accept": "application/json"}, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                last_status, last_detail = None, f"{type(exc).__name__}: {exc}"
                continue
            full_url = resp.url or url
            if resp.status_code in _RETRY_STATUSES:
                last_status, last_detail = resp.status_code, _excerpt(resp.text)
                retry_after = _retry_after(resp.headers.get("Retry-After"))
                continue
            if resp.status_code >= 400:
                raise KlassError(full_url, resp.status_code, _excerpt(resp.text))
            try:
                return resp.json()
            except ValueError as exc:  # HTML error page or CSV: not something we can use
                raise KlassError(full_url, resp.status_code, f"response is not JSON: {exc}") from exc
        raise KlassError(
            _with_query(url, params), last_status, f"gave up after {self.max_retries} retries; {last_detail}"
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return min(self.backoff * 2 ** (attempt - 1), 60.0)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text[:limit]


def _with_query(url: str, params: Mapping[str, str]) -> str:
    return requests.Request("GET", url, params=dict(params)).prepare().url or url
