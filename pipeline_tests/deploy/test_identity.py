"""How ``deploy.stack`` recognises the processes it started (deploy/identity.py), fast.

psutil derives a process's start time from the kernel's boot time in /proc/stat, which moved by a
second on this kind of machine: compared with ``==`` to the recorded value, every process of the
stack looked like someone else's and ``down`` left eight of them running. A shifted boot time is
the same as a recorded start time off by a second, which these tests record on purpose: the
process is still recognised and ``down`` stops it, while a process that got the pid but runs
another command line (or started long after) is never touched. The processes are ``sleep`` and
``sh``, started and stopped in milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest

from deploy import identity, processes, topology
from deploy import stack as stack_module

SHIFTS = [-1.0, 1.0, identity.START_TIME_TOLERANCE_SECONDS - 0.1]


@pytest.fixture
def sleeper():
    """A ``sleep`` started as the stack starts its servers; killed afterwards if still alive."""
    process = processes.start(["sleep", "300"])
    yield process
    if processes.is_alive(process.pid):
        processes.stop(process, grace=1.0)
    process.wait(timeout=10)


def _stack_recording(tmp_path, component: str, record: dict) -> stack_module.Stack:
    """A stack whose state file records ``component`` as ``record`` (what ``up`` writes)."""
    settings = topology.Settings(home=tmp_path)
    state = {"settings": settings.to_json(), "processes": {component: record}}
    settings.state_file.write_text(json.dumps(state))
    return stack_module.Stack(settings, environ={})


@pytest.mark.parametrize("shift", SHIFTS)
def test_a_process_is_itself_when_its_start_time_reads_differently_by_a_second(shift):
    me = psutil.Process(os.getpid())
    found = processes.find(me.pid, me.create_time() + shift, me.cmdline())
    assert found is not None and found.pid == me.pid
    assert me in processes.family(me.pid, me.create_time() + shift, me.cmdline())


def test_a_pid_with_another_command_line_or_a_later_start_is_someone_else():
    me = psutil.Process(os.getpid())
    other_program = [sys.executable, "-m", "deploy.stack", "up"]
    assert processes.find(me.pid, me.create_time(), other_program) is None
    assert processes.family(me.pid, me.create_time(), other_program) == set()
    started_later = me.create_time() + 60  # the pid recycled by the same program, a minute later
    assert processes.find(me.pid, started_later, me.cmdline()) is None
    assert processes.family(me.pid, started_later, me.cmdline()) == set()


def test_start_records_the_command_line_the_kernel_shows():
    process = processes.start([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        assert process.cmdline == psutil.Process(process.pid).cmdline()
        assert process.cmdline[-1] == "import time; time.sleep(300)"
    finally:
        processes.stop(process, grace=1.0)


@pytest.mark.parametrize("shift", SHIFTS)
def test_down_stops_a_server_whose_start_time_shifted_with_the_boot_time(tmp_path, sleeper, shift):
    record = {"pid": sleeper.pid, "create_time": sleeper.create_time + shift, "cmdline": sleeper.cmdline}
    stack = _stack_recording(tmp_path, "daemon", record)
    assert stack.running_pid("daemon") == sleeper.pid

    stack.down()
    assert not processes.is_alive(sleeper.pid)
    assert "daemon" not in stack.read_state()["processes"]


def test_down_leaves_alone_a_process_that_reused_the_pid_with_another_command_line(tmp_path, sleeper):
    record = {
        "pid": sleeper.pid,
        "create_time": sleeper.create_time,
        "cmdline": [sys.executable, "-m", "dagster_daemon", "run"],  # what the stack had started
    }
    stack = _stack_recording(tmp_path, "daemon", record)
    assert stack.running_pid("daemon") is None
    assert stack.family("daemon") == set()

    stack.down()
    assert processes.is_alive(sleeper.pid) and sleeper.poll() is None


def test_what_a_dead_server_left_in_its_group_is_found_with_a_shifted_start_time(tmp_path):
    """The orphan path: the server exited, its child still runs in the server's process group."""
    leader = processes.start(["sh", "-c", "sleep 300 & echo $!"], stdout=subprocess.PIPE, text=True)
    child_pid = int(leader.stdout.readline())
    leader.wait(timeout=10)  # reaped: the pid leads no process now, the group lives on
    child = psutil.Process(child_pid)
    try:
        # The server's start time as recorded reads a second later than psutil's reading now.
        found = processes.family(leader.pid, leader.create_time + 1.0, leader.cmdline)
        assert found == {child}
        processes.stop_family(found, grace=1.0)
        assert not processes.is_alive(child)
    finally:
        if processes.is_alive(child):
            child.kill()
