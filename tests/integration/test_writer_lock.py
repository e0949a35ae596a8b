"""The writer lock (issue 14): a second writer learns at once who writes, waits with a progress line or
refuses; a killed holder's lock is cleared."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.writer_lock import WriterLock, WriterLockBusy

# The holder takes SIGTERM's default (die) whatever signal state the pytest process hands down. Once in CI the
# lock was still held 10 s after SIGTERM (cause not found); the test below names the holder's signal state then.
HOLD = """
import signal, sys, time
from pathlib import Path
from orchestration.writer_lock import WriterLock
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
signal.signal(signal.SIGTERM, signal.SIG_DFL)
WriterLock(Path(sys.argv[1])).acquire(command="boligsosial demo (test holder)", progress=None)
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    path = tmp_path / ".build" / "writer.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield path, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_second_writer_refuses_at_once_naming_the_holder(holder):
    path, proc = holder
    started = time.monotonic()
    with pytest.raises(WriterLockBusy) as err:
        WriterLock(path).acquire(wait=False, progress=None)
    assert time.monotonic() - started < 2
    message = str(err.value)
    assert f"pid {proc.pid} on {socket.gethostname()} (boligsosial demo (test holder)) since " in message
    assert err.value.holder["pid"] == proc.pid


def test_second_writer_waits_with_progress_lines(holder):
    path, proc = holder
    lines: list[str] = []
    with pytest.raises(WriterLockBusy):
        WriterLock(path).acquire(wait=True, timeout=1.2, poll=0.1, report_every=0.5, progress=lines.append)
    assert len(lines) >= 2
    assert all(line.startswith(f"waiting for the warehouse writer lock: held by pid {proc.pid} ") for line in lines)


def test_waiting_writer_gets_the_lock_when_the_holder_ends(holder):
    path, proc = holder
    proc.send_signal(signal.SIGTERM)  # ends without releasing: the kernel drops the flock
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        pytest.fail("the holder outlived SIGTERM: "
                    + "; ".join(line for line in status.splitlines() if line.startswith(("State", "Sig"))))
    lock = WriterLock(path).acquire(wait=True, timeout=10, poll=0.1, progress=None)
    try:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    finally:
        lock.release()
    assert path.read_text() == ""  # released: nobody named


def test_a_killed_holders_lock_is_cleared_and_reported(holder):
    path, proc = holder
    proc.kill()
    proc.wait()
    assert json.loads(path.read_text())["pid"] == proc.pid  # its details stay behind
    lines: list[str] = []
    lock = WriterLock(path).acquire(wait=False, progress=lines.append)
    try:
        assert lock.cleared_stale["pid"] == proc.pid
        assert lines == [f"cleared a stale writer lock left by pid {proc.pid} on {socket.gethostname()} "
                         f"(boligsosial demo (test holder)) since {lock.cleared_stale['since']}: that process is gone"]
        assert json.loads(path.read_text())["pid"] == os.getpid()
    finally:
        lock.release()
