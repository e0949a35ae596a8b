"""What an alert carries: findings, follow-ups, the digest of one run, and a delivery's outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass
class Finding:
    finding_id: str
    kind: str
    severity: str  # "ERROR" | "WARNING"
    municipality_code: str
    municipality_name: str
    year: int | None
    measure: str
    observed: float | None
    expected: float | None
    deviation: float | None
    message: str = ""
    previous_deviation: float | None = None  # set for worsened findings


@dataclass
class FollowUp:
    finding_id: str
    municipality_code: str
    municipality_name: str
    status: str
    cause: str | None
    owner: str | None
    deadline: dt.date
    note: str | None = None


@dataclass
class Digest:
    run_id: str
    generated_at: dt.datetime
    warehouse: str
    new: list[Finding] = field(default_factory=list)
    worsened: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    overdue: list[FollowUp] = field(default_factory=list)
    synthetic: bool = False
    # The follow-up register could not be read this run (the previous one is kept): its file and what is wrong,
    # told to the working group, who edit it
    register_errors: list[str] = field(default_factory=list)
    register_path: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.worsened or self.resolved or self.overdue or self.register_errors)


@dataclass(frozen=True)
class DeliveryResult:
    status: Literal["sent", "written", "pending"]
    path: Path | None = None
    error: str | None = None


