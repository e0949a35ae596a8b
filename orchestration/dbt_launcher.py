"""`boligsosial-dbt`: dbt started in the folder BOLIGSOSIAL_DBT_WORKDIR names (the pipeline's dbt executable),
in a dbt process the run started early when there is one.

Working folder: dbt reuses its parse (partial_parse.msgpack) only while the profile's connection details are
unchanged, and they include the database path. The pipeline's profile therefore names the build file relatively
(`dbt.duckdb`, warehouse.DBT_LINK_NAME) and dbt starts in that warehouse's build folder: the profile reads
the same for every warehouse, and a run in a new warehouse (a test's, a benchmark round's, a second
deployment's) reuses the project's parse instead of parsing every file again (≈ 3.5 s, issue 19).
dagster-dbt starts dbt in the project folder and offers no other working folder, hence this launcher; the
project, profile, target and log folders reach dbt as absolute paths in its environment.

Warm start: importing dbt-core and its DuckDB adapter takes ≈ 3 s of each run's dbt step (issue 19). A run
that builds models starts a process early (`warm_up`, by the runner) that imports them beside the loads and
waits on a Unix socket. When dagster-dbt starts this launcher, it hands that process its standard streams,
arguments, working folder and environment (`_hand_over`) and waits for dbt's exit code and for the process
to end (so dbt's DuckDB file is closed when the step goes on), forwarding an interrupt (and killing the process
when dbt misses one, `INTERRUPT_GRACE_SECONDS`). Without a warm process (a run started by the Dagster daemon, one
that died or was taken), the launcher runs dbt itself, as before. The warm process declines a request whose
environment differs in what its imports read (`_IMPORT_TIME_ENV`): dbt then starts cold.
"""

from __future__ import annotations

import atexit
import os
import sys

from orchestration import child_process

WORKDIR_ENV = "BOLIGSOSIAL_DBT_WORKDIR"
WARM_ENV = "BOLIGSOSIAL_DBT_WARM"  # the warm process's socket, set by the dbt step while dbt starts
TAKEN = "taken"  # the file the warm process leaves beside its socket when it runs a launcher's dbt
# What the warm process imports before a request: dbt's command line, its DuckDB adapter and the build task
# (≈ 3 s measured alone; the qualitative models' pandas is left to them, for memory).
_WARM_IMPORTS = ("dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.duckdb.connections", "dbt.task.build",
                 "dbt_common.clients.agate_helper")
# The environment read when those modules import (Python's own start, Arrow's allocator, the locale): a request
# whose values differ would get another dbt than a cold start, so it is declined.
_IMPORT_TIME_ENV = ("PYTHON", "ARROW_", "LANG", "LC_", "TZ")
_WINDOWS_ONLY_ENV = {"PYTHONLEGACYWINDOWSSTDIO"}  # dagster-dbt sets it for dbt; Python reads it only on Windows
# An interrupted warm dbt that has not ended by then is killed. dbt cancels the query its connection runs, and
# dbt-duckdb's cancel misses a query that starts a moment later (seen: the query ran on, dbt waited for it);
# dagster-dbt waits 25 s for the process it interrupted. What dbt wrote to the run's build copy is not published.
INTERRUPT_GRACE_SECONDS = 10


def main() -> None:
    workdir = os.environ.get(WORKDIR_ENV)
    if workdir:
        os.chdir(workdir)  # a missing folder is an error here, before dbt could open a database elsewhere
    warm = os.environ.get(WARM_ENV)
    if warm:
        code = _hand_over(warm)
        if code is not None:
            sys.exit(code)
    from dbt.cli.main import cli

    sys.exit(cli())


# --- the launcher's side ------------------------------------------------------------------------------------


def _hand_over(socket_path: str) -> int | None:
    """dbt's exit code from the warm process at `socket_path`; None when there is none or it declined."""
    import json
    import signal
    import socket

    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(socket_path)
    except OSError:
        return None  # gone (its run ended, it was taken): dbt starts here
    interrupts = (signal.SIGINT, signal.SIGTERM)
    # an interrupt this process ignores (inherited: a shell's background job), the warm dbt ignores too, as a
    # cold dbt in this process would
    ignored = [signum for signum in interrupts if signal.getsignal(signum) is signal.SIG_IGN]
    with conn, conn.makefile("rb") as replies, conn.makefile("wb") as requests:
        request = json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ),
                              "ignored_signals": [int(signum) for signum in ignored]}).encode()
        try:
            socket.send_fds(conn, [b"\0"], [0, 1, 2])  # one byte carries the standard streams
            child_process.write_message(requests, request)
            reply = replies.readline().decode().strip()  # once the warm process's imports are done
        except OSError:
            return None
        if not reply.startswith("accepted "):
            if reply.startswith("declined "):
                print(f"boligsosial-dbt: dbt starts cold: {reply.removeprefix('declined ')}", file=sys.stderr)
            return None
        pid = int(reply.split()[1])

        def signal_dbt(signum):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

        def forward(signum, _frame):  # dagster-dbt interrupts the process it started: this one
            signal_dbt(signum)
            signal.alarm(INTERRUPT_GRACE_SECONDS)

        def give_up(_signum, _frame):
            print(f"boligsosial-dbt: dbt did not end within {INTERRUPT_GRACE_SECONDS} s of the interrupt: killed",
                  file=sys.stderr)
            signal_dbt(signal.SIGKILL)

        for signum in interrupts:
            if signum not in ignored:
                signal.signal(signum, forward)
        signal.signal(signal.SIGALRM, give_up)
        result = replies.readline().decode().strip()
        replies.read()  # the connection ends with the process: dbt's database is closed by then
    if not result.startswith("exit "):
        print(f"boligsosial-dbt: the warm dbt process ended without an exit code ({result!r})", file=sys.stderr)
        return 1
    return int(result.split()[1])


# --- the run's side ------------------------------------------------------------------------------------------

_warm: tuple | None = None  # (process, socket folder) of the warm process this process started
_launcher = None  # in the warm process: the launcher's connection, open until the process ends


def warm_up() -> None:
    """Start a warm dbt process for this process's next dbt step, unless one waits already."""
    global _warm
    import subprocess
    import tempfile

    if os.name != "posix":  # the hand-over passes file descriptors over a Unix socket
        return
    if _warm is not None and child_process.running(_warm[0]):
        return
    stop_warm()
    folder = tempfile.mkdtemp(prefix="boligsosial-dbt-")  # private (0700): only this user reaches the socket
    process = child_process.start("orchestration.dbt_launcher", "--warm", os.path.join(folder, "socket"),
                                  stdout=subprocess.DEVNULL)
    _warm = (process, folder)


def warm_environment() -> dict[str, str]:
    """What the dbt step adds to dbt's environment: the warm process's socket, if one waits; else an empty
    value, so the launcher never reaches a socket a calling shell named."""
    if _warm is not None and child_process.running(_warm[0]):
        return {WARM_ENV: os.path.join(_warm[1], "socket")}
    return {WARM_ENV: ""}


def warm_taken() -> bool:
    """Whether the warm process ran this process's dbt (else dbt started cold)."""
    return _warm is not None and os.path.exists(os.path.join(_warm[1], TAKEN))


def stop_warm() -> None:
    """End the warm process (taken or not) and remove its socket's folder."""
    global _warm
    import shutil

    if _warm is None:
        return
    (process, folder), _warm = _warm, None
    # A dbt step waits for the process it took to end, so what is left here waits, or runs a dbt whose step
    # was abandoned (its launcher killed).
    child_process.end(process)
    shutil.rmtree(folder, ignore_errors=True)


atexit.register(stop_warm)  # a run that ends this process without the runner's stop


# --- the warm process --------------------------------------------------------------------------------------


def _serve_warm(socket_path: str) -> int:
    """Import dbt, then run the one dbt command a launcher hands over; ends when its parent closes stdin."""
    import importlib
    import json
    import selectors
    import signal
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)  # before the imports: a launcher that comes early waits for them, not in vain
    server.listen(1)
    started_with = _import_time_env(os.environ)
    for name in _WARM_IMPORTS:
        importlib.import_module(name)
    with selectors.DefaultSelector() as waiting:
        waiting.register(server, selectors.EVENT_READ)
        waiting.register(sys.stdin, selectors.EVENT_READ)
        for key, _ in waiting.select():
            if key.fileobj is sys.stdin:  # the run ended (or its process did) without a dbt step
                return 0
    conn, _ = server.accept()
    server.close()
    _byte, fds, _flags, _addr = socket.recv_fds(conn, 1, 3)
    try:
        with conn.makefile("rb") as requests:
            request = json.loads(child_process.read_message(requests))
    except EOFError:  # the launcher ended before its request was whole
        return 1
    asked = _import_time_env(request["env"])
    if asked != started_with or len(fds) != 3:
        differing = sorted(k for k in asked.keys() | started_with.keys() if asked.get(k) != started_with.get(k))
        conn.sendall(f"declined its environment differs from the warm process's in "
                     f"{', '.join(differing) or 'its standard streams'}\n".encode())
        return 0
    for target, fd in enumerate(fds):  # the launcher's stdin, stdout and stderr: dagster-dbt's pipe
        os.dup2(fd, target)
        os.close(fd)
    # the launcher's interrupts, not those this process inherited from the run (a shell's background job ignores
    # SIGINT): an interrupt raises KeyboardInterrupt in dbt and SIGTERM ends it, unless the launcher ignores them
    ignored = set(request.get("ignored_signals", []))
    signal.signal(signal.SIGINT, signal.SIG_IGN if signal.SIGINT in ignored else signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if signal.SIGTERM in ignored else signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    open(os.path.join(os.path.dirname(socket_path), TAKEN), "w").close()  # for the dbt step's log (`warm_taken`)
    conn.sendall(f"accepted {os.getpid()}\n".encode())
    from dbt.cli.main import cli

    try:
        code = cli.main(args=sys.argv[1:], prog_name="dbt")  # as the `dbt` command runs it (standalone)
    except SystemExit as done:
        code = done.code
    except KeyboardInterrupt:
        code = 130
    code = code if isinstance(code, int) else (0 if code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(f"exit {code}\n".encode())
    global _launcher
    _launcher = conn  # closed when the process ends: after the exit handlers, dbt-duckdb's database close among them
    return code


def _import_time_env(env) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(_IMPORT_TIME_ENV) and k not in _WINDOWS_ONLY_ENV}


if __name__ == "__main__" and sys.argv[1:2] == ["--warm"]:
    sys.exit(_serve_warm(sys.argv[2]))
