"""A local stand-in for KLASS that serves the extract in data/reference/klass/ with KLASS's semantics.

Tests (and offline runs) point `KlassClient` at it. It answers the four calls the client makes:

* `codesAt?date=D`: codes with validFrom ≤ D < validTo (a null validFrom means «before the extract»);
* `codes?from=A&to=B`: codes valid at some time in [A, B), with validFrom/ToInRequestedRange clipped;
* `changes?from=A&to=B`: rows whose changeOccurred lies in [A, B);
* `correspondsAt?targetClassificationId=T&date=D`: the newest correspondence file dated ≤ D, in
  either direction (112 → 131 is stored; 131 → 112 swaps source and target, as KLASS does).

Files are found by name: `{id}_*.json` holding `codes`, `codeChanges`, or, named
`{source}_{target}_correspondence_{YYYY-MM-DD}.json`, `correspondenceItems`. Faults can be queued
(`fail_next(503)`, `fail_next(404)`, `fail_next(200, delay=1.0)` for a slow answer) and every request
is recorded. Binds to 127.0.0.1 on a free port only.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from orchestration import settings

DEFAULT_DIR = settings.REFERENCE_DATA_DIR / "klass"
_PREFIX = "/api/klass/v1"
_ROUTE = re.compile(r"^/classifications/(\d+)/(codesAt|codes|changes|correspondsAt)(?:\.json)?$")
_CORRESPONDENCE = re.compile(r"^(\d+)_(\d+)_correspondence_(\d{4}-\d{2}-\d{2})\.json$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE_FIELDS = ("code", "parentCode", "level", "name", "shortName", "presentationName", "validFrom", "validTo", "notes")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Fault:
    status: int
    path_contains: str
    body: str | None
    delay: float
    headers: dict[str, str] = field(default_factory=dict)


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class KlassReplayServer:
    def __init__(self, directory: str | Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = Path(directory) if directory else DEFAULT_DIR
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._codes: dict[int, list[dict[str, Any]]] = {}
        self._changes: dict[int, list[dict[str, Any]]] = {}
        self._correspondences: list[tuple[int, int, str, list[dict[str, Any]]]] = []
        self._load()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> KlassReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="klass-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> KlassReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        path_contains: str = "",
        body: str | None = None,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` (after `delay` seconds).

        A status of 200 with a delay is a slow but correct answer (for client timeouts)."""
        with self._lock:
            self._faults += [_Fault(status, path_contains, body, delay, dict(headers or {})) for _ in range(times)]

    # -- data ----------------------------------------------------------------------------------

    def _load(self) -> None:
        for path in sorted(self.directory.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            match = _CORRESPONDENCE.match(path.name)
            if match and "correspondenceItems" in doc:
                src, tgt, day = int(match[1]), int(match[2]), match[3]
                self._correspondences.append((src, tgt, day, doc["correspondenceItems"]))
                continue
            head = path.name.split("_", 1)[0]
            if not head.isdigit():
                continue
            if "codes" in doc:
                self._codes.setdefault(int(head), []).extend(doc["codes"])
            if "codeChanges" in doc:
                self._changes.setdefault(int(head), []).extend(doc["codeChanges"])

    def _answer(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        if path.startswith(_PREFIX):
            path = path[len(_PREFIX):]
        route = _ROUTE.match(path.rstrip("/"))
        if not route:
            raise _HttpError(404, f"no such resource: {path}")
        cid, call = int(route[1]), route[2]
        known = set(self._codes) | set(self._changes) | {c[0] for c in self._correspondences}
        if cid not in known:
            raise _HttpError(404, f"classification {cid} not found")
        if call == "codesAt":
            day = _date_param(query, "date")
            return {"codes": [_code_at(c) for c in self._codes.get(cid, []) if _valid_on(c, day)]}
        if call == "codes":
            lo, hi = _date_param(query, "from"), _date_param(query, "to")
            if lo >= hi:
                raise _HttpError(400, "'from' must be before 'to'")
            return {"codes": [_clip(c, lo, hi) for c in self._codes.get(cid, []) if _overlaps(c, lo, hi)]}
        if call == "changes":
            lo, hi = _date_param(query, "from"), _date_param(query, "to")
            return {"codeChanges": [r for r in self._changes.get(cid, []) if lo <= r["changeOccurred"][:10] < hi]}
        target = query.get("targetClassificationId", "")
        if not target.isdigit():
            raise _HttpError(400, "targetClassificationId is required")
        return {"correspondenceItems": self._corresponds(cid, int(target), _date_param(query, "date"))}

    def _corresponds(self, source: int, target: int, day: str) -> list[dict[str, Any]]:
        candidates = [
            (d, items, False) for s, t, d, items in self._correspondences if (s, t) == (source, target) and d <= day
        ] + [
            (d, items, True) for s, t, d, items in self._correspondences if (s, t) == (target, source) and d <= day
        ]
        if not candidates:
            raise _HttpError(404, f"classification {source} has no correspondence with {target} at {day}")
        _, items, inverse = max(candidates, key=lambda c: c[0])
        if not inverse:
            return list(items)
        return [
            {"sourceCode": i["targetCode"], "sourceName": i["targetName"],
             "targetCode": i["sourceCode"], "targetName": i["sourceName"]}
            for i in items
        ]

    # -- HTTP ----------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                with server._lock:
                    server.requests.append(RecordedRequest("GET", parts.path, query, dict(self.headers.items())))
                    fault = next((f for f in server._faults if f.path_contains in self.path), None)
                    if fault:
                        server._faults.remove(fault)
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.status != 200:
                    body = fault.body if fault.body is not None else json.dumps(
                        {"error": "injected fault", "status": fault.status, "path": parts.path}
                    )
                    return self._send(fault.status, body, fault.headers)
                try:
                    doc = server._answer(parts.path, query)
                except _HttpError as err:
                    return self._send(err.status, json.dumps({"error": err.message, "status": err.status}))
                self._send(200, json.dumps(doc, ensure_ascii=False))

            def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        return Handler


def _date_param(query: dict[str, str], name: str) -> str:
    value = query.get(name, "")
    if not _DATE.match(value):
        raise _HttpError(400, f"parameter '{name}' must be a date YYYY-MM-DD, got {value!r}")
    return value


def _valid_on(code: dict[str, Any], day: str) -> bool:
    start, end = code.get("validFrom"), code.get("validTo")
    return (start is None or start <= day) and (end is None or day < end)


def _overlaps(code: dict[str, Any], lo: str, hi: str) -> bool:
    start, end = code.get("validFrom"), code.get("validTo")
    return (start is None or start < hi) and (end is None or end > lo)


def _code_at(code: dict[str, Any]) -> dict[str, Any]:
    return {k: code.get(k) for k in _CODE_FIELDS}


def _clip(code: dict[str, Any], lo: str, hi: str) -> dict[str, Any]:
    out = _code_at(code)
    out["validFromInRequestedRange"] = max(code.get("validFrom") or lo, lo)
    out["validToInRequestedRange"] = min(code.get("validTo") or hi, hi)
    return out
