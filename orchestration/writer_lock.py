"""One writer at a time, known up front: a run that will publish takes this lock before it builds.

Without it two writers (`make demo` beside the daemon, two terminals) both built for minutes and the
second was refused only at publication (PublishConflict). The lock is an OS lock (`fcntl.flock`) on
`<warehouse dir>/.build/writer.lock`, and the holder writes who it is into the file (pid, host, command,
since). Why not `filelock`: it has no holder details, and under it is the same flock. The kernel drops a
flock when its process dies, however it dies, so a killed holder never blocks anyone: the next writer
gets the lock, finds the dead holder's details still in the file, says so and overwrites them.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LOCK_NAME = "writer.lock"


class WriterLockBusy(RuntimeError):
    """Another writer holds the lock (raised at once with `wait=False`, or after `timeout`)."""

    def __init__(self, holder: dict | None, path: Path):
        self.holder = holder
        super().__init__(f"the warehouse is being written by {describe(holder)}; lock {path}")


def describe(holder: dict | None) -> str:
    if not holder:
        return "another process (no details in the lock file yet)"
    return (f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('command')}) "
            f"since {holder.get('since')}")


@dataclass
class WriterLock:
    path: Path
    handle: object | None = None
    cleared_stale: dict | None = None  # the dead holder's details, when its lock was left behind

    @classmethod
    def for_warehouse(cls, published: Path) -> "WriterLock":
        return cls(published.parent / ".build" / LOCK_NAME)

    def holder(self) -> dict | None:
        try:
            text = self.path.read_text(encoding="utf-8")
            return json.loads(text) if text.strip() else None
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def acquire(self, command: str | None = None, wait: bool = True, timeout: float | None = None,
                progress: Callable[[str], None] | None = print, poll: float = 0.5, report_every: float = 10.0):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        started, reported = time.monotonic(), None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = self.holder()
                waited = time.monotonic() - started
                if not wait or (timeout is not None and waited >= timeout):
                    handle.close()
                    raise WriterLockBusy(holder, self.path) from None
                if progress and (reported is None or time.monotonic() - reported >= report_every):
                    progress(f"waiting for the warehouse writer lock: held by {describe(holder)} "
                             f"(waited {waited:.0f} s; --no-wait refuses instead)")
                    reported = time.monotonic()
                time.sleep(poll)
        previous = self.holder()
        if previous and not _alive(previous):
            self.cleared_stale = previous
            if progress:
                progress(f"cleared a stale writer lock left by {describe(previous)}: that process is gone")
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "command": command or " ".join(sys.argv) or "python",
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S %z")}))
        handle.flush()
        self.handle = handle
        _HELD[self.path] = self
        return self

    def release(self) -> None:
        if self.handle is None:
            return
        handle, self.handle = self.handle, None
        _HELD.pop(self.path, None)
        handle.seek(0)
        handle.truncate()  # an empty file: nobody holds it (a killed holder leaves its details, see above)
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


_HELD: dict[Path, WriterLock] = {}


def held(published: Path) -> WriterLock | None:
    """This process's lock on the warehouse, if it holds it (a run's steps share the runner's lock)."""
    return _HELD.get(published.parent / ".build" / LOCK_NAME)


def _alive(holder: dict) -> bool:
    """Whether the holder's process still runs; only answerable on the same host (else: assume it does)."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder.get("pid")), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError):
        return True
    return True
