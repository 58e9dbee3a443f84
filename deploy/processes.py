"""Server processes: start one in its own session, find its family, stop the family for good.

One harness for ``deploy.stack`` and the tests that run real servers. Three facts shape it
(measured, see /work/shared/PITFALLS.md):

- Dagster's servers start children of their own: the code server runs each run in a worker
  process, the daemon and the webserver start helpers. Stopping the server's pid alone can leave
  a run worker behind, holding the warehouse lock. So a server is stopped with its *family*: its
  process group and every descendant.
- ``dagster api grpc`` and ``dagster dev`` map SIGTERM onto their SIGINT handler, and a process
  started in the background of a non-interactive shell inherits SIGINT *ignored*: such a server
  ignores both signals. So servers start with default signal handling.
- Servers must not share the caller's process group, or a Ctrl-C meant for the caller (or a
  signal to the caller's group) reaches them too. So each starts as the leader of a new session,
  and its process group id is its pid.

Stopping is SIGTERM, a grace period, SIGKILL for whatever is left, then a check that nothing of
the family is alive and nothing listens on the server's ports any more.

A recorded server is recognised by its pid, start time and command line (deploy/identity.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil

from deploy.identity import family, find, group_members, is_alive, is_same  # noqa: F401 - interface

LOOPBACK = "127.0.0.1"
# After SIGKILL the kernel frees a process and its sockets promptly; this is only a safety margin.
KILL_TIMEOUT_SECONDS = 10.0
# Signals whose disposition a server must not inherit as "ignored" (see default_signal_handling).
RESET_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ProcessError(RuntimeError):
    """Processes could not be stopped, or their port stayed in use; the message says which."""


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true (return True) or ``timeout`` seconds pass (False).

    The predicate is always evaluated at least once, and once more at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))


# --- starting --------------------------------------------------------------------------------


@contextmanager
def default_signal_handling() -> Iterator[None]:
    """Children started inside this block do not inherit SIGINT or SIGTERM as ignored.

    An ignored disposition survives exec, while a handled one is reset to the default by exec. A
    process started in the background of a non-interactive shell has SIGINT ignored, and Dagster's
    servers map SIGTERM onto their SIGINT handler, so their children would ignore both. While the
    block runs, an ignored SIGINT is handled (KeyboardInterrupt) and an ignored SIGTERM has its
    default action; both are ignored again afterwards. Only the main thread may change handlers,
    which is where a command-line tool starts its servers.
    """
    replaced = {}
    for signum in RESET_SIGNALS:
        if signal.getsignal(signum) == signal.SIG_IGN:
            handler = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            replaced[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, previous in replaced.items():
            signal.signal(signum, previous)


def start(
    command: Sequence[str],
    *,
    log: Path | None = None,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    **popen_options,
) -> subprocess.Popen:
    """Start ``command`` as the leader of a new session, with default signal handling.

    With ``log`` its output (stdout and stderr together) is appended to that file; otherwise
    ``popen_options`` (stdout, stderr, text, ...) go to ``subprocess.Popen`` as given. Stdin is
    /dev/null unless given: a server reading the caller's terminal would steal its input.
    The returned Popen carries ``create_time`` (psutil's) and ``cmdline`` (as the kernel shows
    it), which ``stop`` uses to tell the server's process group from a later one with its id.
    """
    popen_options.setdefault("stdin", subprocess.DEVNULL)
    with default_signal_handling():
        if log is None:
            process = subprocess.Popen(
                list(command), cwd=cwd, env=env, start_new_session=True, **popen_options
            )
        else:
            with open(log, "ab") as output:
                process = subprocess.Popen(
                    list(command), cwd=cwd, env=env, start_new_session=True,
                    stdout=output, stderr=subprocess.STDOUT, **popen_options,
                )  # fmt: skip
    # Not yet reaped, so the pid is still this process's even if it exited at once. Popen returns
    # after the exec, so the command line is the server's (empty if it already exited).
    leader = psutil.Process(process.pid)
    process.create_time = leader.create_time()
    try:
        process.cmdline = leader.cmdline() or None
    except psutil.NoSuchProcess:
        process.cmdline = None
    return process


# --- ports -----------------------------------------------------------------------------------


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on now (the kernel's choice; free until someone binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def is_listening(host: str, port: int) -> bool:
    """Whether ``host:port`` accepts a TCP connection now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


# --- stopping --------------------------------------------------------------------------------


def _signal(processes: Iterable[psutil.Process], groups: Iterable[int], signum: int) -> None:
    # The group first: a child forked after the family was listed is in the group too.
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signum)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signum)  # refuses a recycled pid


def _living(processes: Iterable[psutil.Process]) -> set[psutil.Process]:
    return {process for process in processes if is_alive(process)}


def stop_family(
    members: Iterable[psutil.Process],
    *,
    grace: float,
    host: str = LOOPBACK,
    ports: Iterable[int] = (),
) -> None:
    """SIGTERM ``members``, wait up to ``grace`` s, SIGKILL what is left, then verify.

    The members' process groups are signalled as a whole too (except the caller's own), so that a
    child forked after the family was listed is not missed; a group is taken from a live member,
    never from a recorded id, which may belong to someone else by now. Raises ProcessError if a
    member survives SIGKILL, or if any of ``ports`` still accepts connections (then another
    process holds it).
    """
    members = _living(members)
    groups = set()
    for process in members:
        try:
            groups.add(os.getpgid(process.pid))
        except ProcessLookupError:
            continue
    groups.discard(os.getpgid(0))  # never the caller's own group
    if members:
        _signal(members, groups, signal.SIGTERM)
        if not wait_until(lambda: not _living(members), grace):
            survivors = _living(members)
            for process in list(survivors):  # children started during the grace period
                try:
                    survivors.update(process.children(recursive=True))
                except psutil.NoSuchProcess:
                    continue
            _signal(survivors, groups, signal.SIGKILL)
            if not wait_until(lambda: not _living(survivors), KILL_TIMEOUT_SECONDS):
                pids = sorted(process.pid for process in _living(survivors))
                raise ProcessError(f"Processes {pids} survived SIGKILL.")
    for port in ports:
        if not wait_until(lambda port=port: not is_listening(host, port), KILL_TIMEOUT_SECONDS):
            raise ProcessError(
                f"The processes are stopped but {host}:{port} still accepts connections: "
                "another process holds the port."
            )


def stop(
    *servers: subprocess.Popen,
    grace: float,
    host: str = LOOPBACK,
    ports: Iterable[int] = (),
) -> None:
    """Stop servers started by ``start``, with their families, all at once (see stop_family).

    Then reap them, so that each Popen has its real return code, and close their pipes.
    """
    members: set[psutil.Process] = set()
    for server in servers:
        members |= family(server.pid, getattr(server, "create_time", None), getattr(server, "cmdline", None))
    stop_family(members, grace=grace, host=host, ports=ports)
    for server in servers:
        server.wait(timeout=KILL_TIMEOUT_SECONDS)
        for stream in (server.stdin, server.stdout, server.stderr):
            if stream is not None:
                stream.close()
