"""The landing zone: every file exactly as it was received, with a provenance sidecar.

Layout: `<landing>/<source>/<received date>/<sha256[:12]>__<original name>` plus `….meta.json`.
Landing is idempotent on (source, original name, checksum): the same bytes received twice are kept
once. A rejected file stays where it is; its sidecar says `status: rejected` and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestration import settings

META_SUFFIX = ".meta.json"


@dataclass
class LandedFile:
    source: str
    original_name: str
    path: str
    checksum: str
    received_at: str
    origin: str
    status: str = "landed"  # landed | rejected
    reason: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def meta_path(self) -> Path:
        return Path(self.path + META_SUFFIX)

    def read_bytes(self) -> bytes:
        return Path(self.path).read_bytes()

    def save(self) -> None:
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.meta_path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:150] or "file"


def land_bytes(
    source: str,
    original_name: str,
    data: bytes,
    origin: str,
    extra: dict | None = None,
    root: Path | None = None,
) -> tuple[LandedFile, bool]:
    """Keep `data` in the landing zone. Returns the landed file and whether it was new."""
    root = root or settings.landing_dir()
    checksum = sha256(data)
    for existing in landed_files(source, root=root):
        if existing.checksum == checksum and existing.original_name == original_name:
            return existing, False
    now = dt.datetime.now(dt.timezone.utc)
    folder = root / source / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{checksum[:12]}__{_safe_name(original_name)}"
    tmp = target.with_name(target.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    landed = LandedFile(
        source=source,
        original_name=original_name,
        path=str(target),
        checksum=checksum,
        received_at=now.isoformat(timespec="seconds"),
        origin=origin,
        extra=dict(extra or {}),
    )
    landed.save()
    return landed, True


def landed_files(source: str, root: Path | None = None) -> list[LandedFile]:
    """All files of a source, oldest first."""
    root = root or settings.landing_dir()
    out: list[LandedFile] = []
    for meta in sorted((root / source).glob(f"*/*{META_SUFFIX}")):
        out.append(LandedFile(**json.loads(meta.read_text(encoding="utf-8"))))
    out.sort(key=lambda f: (f.received_at, f.path))
    return out


def mark_rejected(landed: LandedFile, reason: str) -> LandedFile:
    landed.status = "rejected"
    landed.reason = reason
    landed.save()
    return landed
