"""Which live processes are a recorded server's: the server itself, its group, its descendants.

A server started by ``deploy.processes.start`` is recorded by its pid, its start time and its
command line. A pid alone is not enough (the kernel recycles pids), and psutil's start time is not
a fixed number: psutil derives it from the kernel's boot time in /proc/stat, which can move by a
second during a machine's life. Compared with ``==``, a shifted boot time made ``down`` lose every
process of the stack. So start times agree within START_TIME_TOLERANCE_SECONDS, and the command
line recorded at start must be the process's command line now.
"""

from __future__ import annotations

import os

import psutil

# How far a recorded start time may be from psutil's reading now (the boot time moved by 1 s here).
START_TIME_TOLERANCE_SECONDS = 2.0


def is_alive(process: psutil.Process | int) -> bool:
    """True while the process runs. A zombie counts as gone: it holds no socket or lock.

    Given a ``psutil.Process``, a recycled pid (another process by now) also counts as gone.
    """
    try:
        if not isinstance(process, psutil.Process):
            process = psutil.Process(process)
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def is_same(process: psutil.Process, create_time: float | None = None, cmdline=None) -> bool:
    """Whether ``process`` is the one recorded with ``create_time`` and ``cmdline`` (each if given).

    Start times agree within START_TIME_TOLERANCE_SECONDS; the command line must be equal. A pid
    recycled by another program, or by the same program started later, is not the same.
    """
    try:
        if (
            create_time is not None
            and abs(process.create_time() - create_time) > START_TIME_TOLERANCE_SECONDS
        ):
            return False
        return not cmdline or process.cmdline() == list(cmdline)
    except psutil.AccessDenied:  # another user's process: not one this user started
        return False


def find(pid: int, create_time: float | None = None, cmdline=None) -> psutil.Process | None:
    """The live process ``pid``; with ``create_time``/``cmdline``, only if it is that process."""
    try:
        process = psutil.Process(pid)
        if not is_alive(process) or not is_same(process, create_time, cmdline):
            return None  # gone, or the pid was recycled
    except psutil.NoSuchProcess:
        return None
    return process


def group_members(pgid: int) -> set[psutil.Process]:
    """The live processes of process group ``pgid``."""
    members = set()
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and is_alive(process):
                members.add(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def family(pid: int, create_time: float | None = None, cmdline=None) -> set[psutil.Process]:
    """The live processes of the server ``pid`` started by ``start``.

    That is the server, its process group (id ``pid``: it leads its own session) and every
    descendant of either; a run worker may have left the group, and a worker whose server died
    was re-parented away but is still in the group. With ``create_time`` and ``cmdline`` (the
    server's, see is_same), a group led by another process of the same pid is someone else's.
    """
    try:
        leader = psutil.Process(pid)
        if not is_alive(leader):  # a zombie: the server is gone, what it started may not be
            raise psutil.NoSuchProcess(pid)
        if not is_same(leader, create_time, cmdline):
            return set()
        roots = {leader} | group_members(pid)
    except psutil.NoSuchProcess:
        # The server is gone; what it started may not be. Older processes are not its.
        roots = {p for p in group_members(pid) if create_time is None or _born_since(p, create_time)}
    found = set(roots)
    for process in roots:
        try:
            found.update(process.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return {process for process in found if is_alive(process)}


def _born_since(process: psutil.Process, create_time: float) -> bool:
    try:
        return process.create_time() >= create_time - START_TIME_TOLERANCE_SECONDS
    except psutil.NoSuchProcess:
        return False
