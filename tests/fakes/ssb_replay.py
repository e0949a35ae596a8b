"""A local stand-in for Statistics Norway's statistics API, serving stored JSON-stat 2.0 datasets.

`SsbReplayServer` speaks enough of both protocols for the client and the pipeline to run offline:

PxWebApi v2, under `/api/pxwebapi/v2` (`url_v2`):
    GET /config, GET /tables/{id}, GET /tables/{id}/metadata, GET|POST /tables/{id}/data
v0 (PxWebApi 1), under `/api/v0/no` (`url_v0`):
    GET /table/{id} (variables metadata), POST /table/{id} (json-stat2 data)

Data requests really slice the stored dataset. Selection expressions: codes, `*` and wildcards with
`*`/`?`, `from(x)`, `to(x)`, `range(x,y)` (bracketed `[range(x,y)]` in a GET), `top(n[,offset])`,
`bottom(n[,offset])` (on the time dimension `top` means the latest periods). Known simplifications:
- selected codes come back in the stored order, not the order asked for;
- a dimension left out of the selection returns all its stored categories (no elimination);
- codelists (`codelist[VAR]`, v0 `agg:`/`vs:` filters) are accepted and ignored;
- a table may hold several datasets (e.g. different dimension sets); a query is answered from the
  first one whose dimensions include every selected variable, else from the first. Nothing is merged.

Like the real service it answers 404 to URLs longer than `max_url_length` (2 100 characters),
400 «Non-existent value» to unknown codes, and 400 «Too many cells selected» (or 403 with
`too_many_cells_status=403`, as older v2 docs and v0 say) above `max_cells`.

For tests: `script(path_suffix, *responses)` queues scripted answers (status, body, headers, a delay
or a dropped connection) that are served before normal handling; `requests` records every request
(method, path, query, parsed body, URL length, status answered).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

V2_PREFIX = "/api/pxwebapi/v2"
V0_PREFIX = "/api/v0/no"


@dataclass
class ScriptedResponse:
    """One scripted answer. `status=None` answers normally but adds `headers` (e.g. x-ratelimit-*)."""

    status: int | None = 200
    body: Any = None  # dict/list → JSON; str/bytes sent as is (e.g. malformed JSON)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    drop: bool = False  # close the connection without answering


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    url_length: int
    status: int | None = None


class _ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail


class _Cube:
    """A stored json-stat2 dataset, ready to slice."""

    def __init__(self, table_id: str, doc: Mapping[str, Any]) -> None:
        self.table_id = table_id
        self.doc = doc
        self.ids: list[str] = list(doc["id"])
        self.sizes: list[int] = list(doc["size"])
        self.codes: dict[str, list[str]] = {}
        for name, size in zip(self.ids, self.sizes):
            index = doc["dimension"][name]["category"]["index"]
            if isinstance(index, Mapping):
                codes = sorted(index, key=index.__getitem__)
            else:
                codes = list(index)
            if len(codes) != size:
                raise ValueError(f"replay table {table_id}: dimension {name} has {len(codes)} codes, size {size}")
            self.codes[name] = codes
        n = int(np.prod(self.sizes))
        value = doc["value"]
        if isinstance(value, Mapping):
            dense: list[Any] = [None] * n
            for k, v in value.items():
                dense[int(k)] = v
            value = dense
        if len(value) != n:
            raise ValueError(f"replay table {table_id}: {len(value)} values, sizes multiply to {n}")
        self.values = np.array(value, dtype=object)
        status = doc.get("status") or {}
        if isinstance(status, str):
            status = {i: status for i in range(n)}
        elif isinstance(status, list):
            if len(status) == n:
                status = {i: s for i, s in enumerate(status) if s}
            else:  # a one-element list applies to every cell
                status = {i: status[0] for i in range(n)}
        self.status: dict[int, str] = {int(k): v for k, v in status.items()}
        times = (doc.get("role") or {}).get("time") or (["Tid"] if "Tid" in self.ids else [])
        self.time_dims = set(times)

    def resolve(self, name: str, tokens: list[str]) -> list[int]:
        """Positions (stored order) selected by a list of codes/expressions for one dimension."""
        codes = self.codes[name]
        pos_of = {c: i for i, c in enumerate(codes)}
        chosen: set[int] = set()

        def position(code: str) -> int:
            if code not in pos_of:
                raise _ApiError(400, "Non-existent value", f"Value '{code}' does not exist in variable '{name}'")
            return pos_of[code]

        for raw in tokens:
            token = raw.strip()
            if token.startswith("[") and token.endswith("]"):
                token = token[1:-1]
            m = re.fullmatch(r"(?i)(from|to|top|bottom|range)\((.*)\)", token)
            if m:
                func, args = m.group(1).lower(), [a.strip() for a in m.group(2).split(",")]
                if func == "from":
                    chosen.update(range(position(args[0]), len(codes)))
                elif func == "to":
                    chosen.update(range(0, position(args[0]) + 1))
                elif func == "range":
                    if len(args) != 2:
                        raise _ApiError(400, "Invalid expression", f"'{raw}' needs two arguments")
                    lo, hi = sorted((position(args[0]), position(args[1])))
                    chosen.update(range(lo, hi + 1))
                else:
                    try:
                        count, offset = int(args[0]), int(args[1]) if len(args) > 1 else 0
                    except ValueError:
                        raise _ApiError(400, "Invalid expression", f"'{raw}' needs integer arguments") from None
                    order = list(range(len(codes)))
                    # Periods are stored oldest first; "top" means the latest ones.
                    if (func == "top") == (name in self.time_dims):
                        order.reverse()
                    chosen.update(order[offset : offset + count])
            elif "*" in token or "?" in token:
                chosen.update(i for i, c in enumerate(codes) if fnmatch.fnmatchcase(c, token))
            else:
                chosen.add(position(token))
        return sorted(chosen)

    def select(self, selection: Mapping[str, list[str]], max_cells: int, too_many_status: int) -> dict[str, Any]:
        unknown = [v for v in selection if v not in self.codes]
        if unknown:
            detail = f"Variable(s) {unknown} do not exist in table {self.table_id}"
            raise _ApiError(400, "Non-existent variable", detail)
        positions = [
            self.resolve(name, selection[name]) if name in selection else list(range(size))
            for name, size in zip(self.ids, self.sizes)
        ]
        cells = int(np.prod([len(p) for p in positions]))
        if cells > max_cells:
            title = "Too many cells selected" if too_many_status == 400 else "Too many values selected"
            raise _ApiError(too_many_status, title, f"{cells} cells selected, the limit is {max_cells}")
        return self.dataset(positions)

    def dataset(self, positions: list[list[int]]) -> dict[str, Any]:
        """The json-stat2 document for the given positions, in SSB's shape."""
        sizes = [len(p) for p in positions]
        if all(sizes):
            flat = np.ravel_multi_index(np.ix_(*[np.array(p) for p in positions]), self.sizes).ravel()
        else:
            flat = np.empty(0, dtype=np.int64)
        status: dict[str, str] = {}
        if self.status and len(flat):
            old = np.array(sorted(self.status), dtype=np.int64)
            new = np.searchsorted(flat, old)  # flat is ascending: positions are in stored order
            hit = (new < len(flat)) & (flat[np.minimum(new, len(flat) - 1)] == old)
            status = {str(int(j)): self.status[int(o)] for o, j in zip(old[hit], new[hit])}

        dimension: dict[str, Any] = {}
        for name, pos in zip(self.ids, positions):
            src = self.doc["dimension"][name]
            cat = src["category"]
            kept = [self.codes[name][i] for i in pos]
            new_cat: dict[str, Any] = {"index": {c: i for i, c in enumerate(kept)}}
            for key in ("label", "unit", "note"):
                if isinstance(cat.get(key), Mapping):
                    sub = {c: cat[key][c] for c in kept if c in cat[key]}
                    if sub or key == "label":
                        new_cat[key] = sub
            out = {k: copy.deepcopy(v) for k, v in src.items() if k != "category"}
            out["category"] = new_cat
            dimension[name] = out

        doc: dict[str, Any] = {
            k: copy.deepcopy(self.doc[k])
            for k in ("version", "class", "label", "source", "updated", "link", "note", "role")
            if k in self.doc
        }
        doc.setdefault("version", "2.0")
        doc.setdefault("class", "dataset")
        extension = copy.deepcopy(self.doc.get("extension") or {})
        extension.setdefault("px", {})["tableid"] = self.table_id
        doc.update(id=self.ids, size=sizes, dimension=dimension, extension=extension)
        doc["value"] = self.values[flat].tolist()
        if status:
            doc["status"] = status
        return doc


class _Table:
    def __init__(self, table_id: str, spec: Mapping[str, Any]) -> None:
        self.table_id = table_id
        docs = list(spec.get("datasets") or []) or ([spec["dataset"]] if spec.get("dataset") else [])
        if not docs:
            raise ValueError(f"replay table {table_id}: no dataset")
        self.cubes = [_Cube(table_id, d) for d in docs]
        first = self.cubes[0]
        self.info: dict[str, Any] = copy.deepcopy(dict(spec.get("table") or {})) or self._derive_info(first)
        self.metadata: dict[str, Any] = copy.deepcopy(dict(spec.get("metadata") or {})) or self._derive_metadata(first)

    def _derive_info(self, cube: _Cube) -> dict[str, Any]:
        times = [cube.codes[t] for t in cube.ids if t in cube.time_dims]
        return {
            "language": "no",
            "id": self.table_id,
            "label": cube.doc.get("label", self.table_id),
            "updated": cube.doc.get("updated"),
            "firstPeriod": times[0][0] if times and times[0] else None,
            "lastPeriod": times[0][-1] if times and times[0] else None,
            "variableNames": [cube.doc["dimension"][n].get("label", n) for n in cube.ids],
        }

    def _derive_metadata(self, cube: _Cube) -> dict[str, Any]:
        doc = cube.dataset([list(range(s)) for s in cube.sizes])
        doc.pop("status", None)
        doc["value"] = []
        for dim in doc["dimension"].values():
            dim.setdefault("extension", {"elimination": False, "show": "value", "codelists": []})
        return doc

    def cube_for(self, variables: Iterable[str]) -> _Cube:
        """The dataset with the fewest dimensions that covers the selection: like SSB, a variable left
        out is eliminated (e.g. a total without `Alder`), not returned in full."""
        wanted = set(variables)
        covering = [c for c in self.cubes if wanted <= set(c.ids)]
        return min(covering, key=lambda c: len(c.ids)) if covering else self.cubes[0]

    def v0_metadata(self) -> dict[str, Any]:
        cube = self.cubes[0]
        variables = []
        for name in cube.ids:
            dim = cube.doc["dimension"][name]
            labels = dim["category"].get("label") or {}
            var: dict[str, Any] = {
                "code": name,
                "text": dim.get("label", name),
                "values": cube.codes[name],
                "valueTexts": [labels.get(c, c) for c in cube.codes[name]],
            }
            if name in cube.time_dims:
                var["time"] = True
            variables.append(var)
        return {"title": self.info.get("label") or cube.doc.get("label", self.table_id), "variables": variables}


def _split_value_codes(text: str) -> list[str]:
    """`a,b,[range(x,y)]` → tokens; brackets protect commas inside expressions."""
    return [t.strip() for t in re.findall(r"\[[^\]]*\]|[^,]+", text) if t.strip()]


class SsbReplayServer:
    """Serve stored SSB tables on 127.0.0.1 over PxWebApi v2 and v0. Use as a context manager."""

    def __init__(
        self,
        tables: Mapping[str, Mapping[str, Any]],
        *,
        max_cells: int = 800_000,
        too_many_cells_status: int = 400,
        max_url_length: int = 2100,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.tables = {str(tid): _Table(str(tid), spec) for tid, spec in tables.items()}
        self.max_cells = max_cells
        self.too_many_cells_status = too_many_cells_status
        self.max_url_length = max_url_length
        self.requests: list[RecordedRequest] = []
        self._scripts: list[tuple[str, str | None, list[ScriptedResponse]]] = []
        self._lock = threading.Lock()
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_directory(cls, path: str | Path, **kwargs: Any) -> SsbReplayServer:
        """`<path>/<table_id>/table.json` (optional), `metadata.json` (optional), other `*.json` = datasets."""
        tables: dict[str, dict[str, Any]] = {}
        for folder in sorted(p for p in Path(path).iterdir() if p.is_dir()):
            spec: dict[str, Any] = {"datasets": []}
            for file in sorted(folder.glob("*.json")):
                doc = json.loads(file.read_text(encoding="utf-8"))
                if file.name == "table.json":
                    spec["table"] = doc
                elif file.name == "metadata.json":
                    spec["metadata"] = doc
                else:
                    spec["datasets"].append(doc)
            if spec["datasets"]:
                tables[str(spec.get("table", {}).get("id") or folder.name)] = spec
        return cls(tables, **kwargs)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SsbReplayServer:
        if self._httpd is None:
            handler = type("_BoundHandler", (_Handler,), {"replay": self})
            self._httpd = _QuietServer(self._address, handler)
            # A short poll interval keeps stop() fast (shutdown waits for the loop to look).
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="ssb-replay", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> SsbReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("SsbReplayServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url_v2(self) -> str:
        return self.url + V2_PREFIX

    @property
    def url_v0(self) -> str:
        return self.url + V0_PREFIX

    # -- test helpers ----------------------------------------------------------------------------
    def script(self, path_suffix: str, *responses: ScriptedResponse, method: str | None = None) -> None:
        """Queue answers for requests whose path ends with `path_suffix` (e.g. `/tables/12008/data`)."""
        with self._lock:
            self._scripts.append((path_suffix, method.upper() if method else None, list(responses)))

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def clear(self) -> None:
        """Forget recorded requests and unused scripted answers."""
        with self._lock:
            self.requests.clear()
            self._scripts.clear()

    def set_table_updated(self, table_id: str, updated: str) -> None:
        """Pretend SSB republished the table (what `GET /tables/{id}` reports as `updated`)."""
        self.tables[table_id].info["updated"] = updated

    def _next_script(self, method: str, path: str) -> ScriptedResponse | None:
        with self._lock:
            for suffix, want, queue in self._scripts:
                if queue and path.endswith(suffix) and want in (None, method):
                    return queue.pop(0)
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # -- protocol --------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        """Answer one request: (status, JSON-able body or text)."""
        if path.startswith(V2_PREFIX):
            return self._v2(method, path[len(V2_PREFIX) :].rstrip("/"), query, body)
        if path.startswith(V0_PREFIX):
            return self._v0(method, path[len(V0_PREFIX) :].rstrip("/"), body)
        raise _ApiError(404, "Not Found", path)

    def _table(self, table_id: str) -> _Table:
        if table_id not in self.tables:
            raise _ApiError(404, "Non-existent table", f"Table '{table_id}' does not exist")
        return self.tables[table_id]

    def _v2(self, method: str, route: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if route == "/config" and method == "GET":
            return 200, {
                "apiVersion": "2.0.0",
                "appVersion": "ssb-replay",
                "defaultLanguage": "no",
                "languages": [{"id": "no", "label": "Norsk"}, {"id": "en", "label": "English"}],
                "maxDataCells": self.max_cells,
                "maxCallsPerTimeWindow": 30,
                "timeWindow": 60,
                "defaultDataFormat": "px",
                "dataFormats": ["px", "json-stat2", "csv", "xlsx", "html", "json-px", "parquet"],
            }
        m = re.fullmatch(r"/tables/([^/]+)(/metadata|/data)?", route)
        if not m:
            raise _ApiError(404, "Not Found", route)
        table = self._table(m.group(1))
        if m.group(2) is None and method == "GET":
            return 200, table.info
        if m.group(2) == "/metadata" and method == "GET":
            return 200, table.metadata
        if m.group(2) != "/data" or method not in ("GET", "POST"):
            raise _ApiError(405, "Method Not Allowed", f"{method} {route}")
        fmt = (query.get("outputFormat") or ["json-stat2"])[0]
        if fmt != "json-stat2":
            raise _ApiError(400, "Unsupported output format", f"the replay server only serves json-stat2, not {fmt}")
        selection: dict[str, list[str]] = {}
        for key, values in query.items():
            vm = re.fullmatch(r"valueCodes\[(.+)\]", key)
            if vm:
                selection[vm.group(1)] = [t for v in values for t in _split_value_codes(v)]
        if method == "POST":
            if not isinstance(body, Mapping) or not isinstance(body.get("selection", []), list):
                raise _ApiError(400, "Invalid request body", "expected {\"selection\": [...]}")
            for item in body.get("selection", []):
                codes = item.get("valueCodes") or []
                # In a body each list item is one code or expression: commas need no brackets.
                selection[item["variableCode"]] = [str(c) for c in codes] or ["*"]
        cube = table.cube_for(selection)
        return 200, cube.select(selection, self.max_cells, self.too_many_cells_status)

    def _v0(self, method: str, route: str, body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/table/([^/]+)", route)
        if not m:
            raise _ApiError(404, "Not Found", route)
        table = self._table(m.group(1))
        if method == "GET":
            return 200, table.v0_metadata()
        if method != "POST":
            raise _ApiError(405, "Method Not Allowed", method)
        if not isinstance(body, Mapping) or not isinstance(body.get("query"), list):
            raise _ApiError(400, "Parameter error", "expected {\"query\": [...], \"response\": {...}}")
        fmt = (body.get("response") or {}).get("format")
        if fmt != "json-stat2":
            raise _ApiError(400, "Parameter error", f"the replay server only serves json-stat2, not {fmt}")
        selection: dict[str, list[str]] = {}
        for item in body["query"]:
            sel = item.get("selection") or {}
            flt, values = str(sel.get("filter", "item")).lower(), [str(v) for v in sel.get("values", [])]
            if flt == "top":
                selection[item["code"]] = [f"top({values[0]})"]
            elif flt == "all":
                selection[item["code"]] = values or ["*"]
            else:  # item, agg:…, vs:… (codelists are not simulated)
                selection[item["code"]] = values
        cube = table.cube_for(selection)
        # v0 answers 403 «Too many values selected» above its limit.
        return 200, cube.select(selection, self.max_cells, 403)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is part of the tests, not a server failure.
        pass


class _Handler(BaseHTTPRequestHandler):
    replay: SsbReplayServer
    server_version = "ssb-replay/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        host, port = self.server.server_address[:2]
        url_length = len(f"http://{host}:{port}{self.path}")
        record = RecordedRequest(method, parts.path, query, body, url_length)
        self.replay._record(record)

        scripted = self.replay._next_script(method, parts.path)
        extra_headers: dict[str, str] = {}
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            if scripted.drop:
                record.status = 0
                self.close_connection = True
                self.connection.close()
                return
            extra_headers = scripted.headers
            if scripted.status is not None:
                record.status = scripted.status
                self._send(scripted.status, scripted.body, extra_headers)
                return

        v0 = parts.path.startswith(V0_PREFIX)
        try:
            if url_length > self.replay.max_url_length:
                raise _ApiError(404, "Not Found", "URL too long")
            status, payload = self.replay.handle(method, parts.path, query, body)
        except _ApiError as err:
            status = err.status
            if v0:  # v0 answers errors as plain text
                payload = f"{err.title}: {err.detail}" if err.detail else err.title
            else:
                payload = {
                    "type": "https://tools.ietf.org/html/rfc9110#section-15.5",
                    "title": err.title,
                    "status": err.status,
                    "detail": err.detail,
                }
                extra_headers = {"Content-Type": "application/problem+json", **extra_headers}
        record.status = status
        self._send(status, payload, extra_headers)

    def _send(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        if isinstance(payload, bytes):
            data, ctype = payload, "application/octet-stream"
        elif isinstance(payload, str):
            data, ctype = payload.encode("utf-8"), "text/plain; charset=utf-8"
        elif payload is None:
            data, ctype = b"", "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"
        self.send_response(status)
        lower = {k.lower() for k in headers}
        if "content-type" not in lower:
            self.send_header("Content-Type", ctype)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
