"""A Python child process that ends with the process that started it: GX's checks (quality/worker.py) and dbt's
warm start (dbt_launcher.py) each run in one, so that what they import never lives in the pipeline (issue 19).

The child runs `python -m <module> <args>` with its stdin a pipe from this process, and watches it: when this
process ends, however it ends, the pipe closes and the child ends too. `end` kills it rather than asking: both
children hold nothing between requests that a kill would lose, and a Python with GX or dbt loaded takes most of a
second to exit. A request or a reply is one message: its length, then its bytes (`write_message`, `read_message`).
"""

from __future__ import annotations

import contextlib
import struct
import subprocess
import sys

LENGTH = struct.Struct("!Q")  # a message's length, before its bytes


def start(module: str, *args: str, stdout: int | None = None) -> subprocess.Popen:
    """`python -m module args`, its stdin a pipe from this process (its lifeline), its stderr this process's."""
    return subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=stdout)


def running(child: subprocess.Popen | None) -> bool:
    return child is not None and child.poll() is None


def write_message(stream, data: bytes) -> None:
    stream.write(LENGTH.pack(len(data)) + data)
    stream.flush()


def read_message(stream) -> bytes:
    """The next message of a buffered binary stream; EOFError when it ends first (the writer ended)."""
    header = stream.read(LENGTH.size)
    if len(header) < LENGTH.size:
        raise EOFError
    (length,) = LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:  # the writer died in the middle of a message
        raise EOFError
    return data


def end(child: subprocess.Popen) -> None:
    """Kill the child, wait for it, and close this side of its pipes."""
    child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):  # a child that died has closed its end already
                pipe.close()
