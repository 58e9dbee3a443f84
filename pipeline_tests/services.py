"""The services some tests need, as markers: ``needs_postgres``, ``needs_redis``, ``needs_chromium``.

A marked test (on itself or through its module's ``pytestmark``) runs only when its service is
there; a fixture that connects to PostgreSQL (Redis) requests ``postgres_server`` (``redis_server``)
instead, which marks every test that uses the fixture. Each service is probed once per session,
when a test first needs it: a TCP connection to ``TEST_POSTGRES_ADDRESS`` (default 127.0.0.1:5432)
or ``TEST_REDIS_ADDRESS`` (default 127.0.0.1:6379), ``chromium`` or ``chromium-browser`` on the
PATH. Without it the test is skipped with a reason naming the service and how to get it; under
``CI=true`` it errors instead, so a CI machine that lacks a service fails rather than passes with
fewer tests. ``bash deploy/test.sh`` installs and starts all three.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest

CONNECT_TIMEOUT_SECONDS = 2.0
SETUP_COMMAND = "bash deploy/test.sh"


def _address(variable: str, default: str) -> tuple[str, int]:
    host, _, port = os.environ.get(variable, default).rpartition(":")
    return host, int(port)


def _accepts_connections(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=CONNECT_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def _tcp_problem(name: str, variable: str, default: str) -> Callable[[], str | None]:
    def problem() -> str | None:
        host, port = _address(variable, default)
        if _accepts_connections((host, port)):
            return None
        return f"{name} is not accepting connections on {host}:{port}: run {SETUP_COMMAND}"

    return problem


def _chromium_problem() -> str | None:
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return None
    return (
        f"chromium is not installed (neither chromium nor chromium-browser is on PATH): run {SETUP_COMMAND}"
    )


@dataclass(frozen=True)
class Service:
    marker: str
    find_problem: Callable[[], str | None]


POSTGRES = Service("needs_postgres", _tcp_problem("PostgreSQL", "TEST_POSTGRES_ADDRESS", "127.0.0.1:5432"))
REDIS = Service("needs_redis", _tcp_problem("Redis", "TEST_REDIS_ADDRESS", "127.0.0.1:6379"))
CHROMIUM = Service("needs_chromium", _chromium_problem)
SERVICES = (POSTGRES, REDIS, CHROMIUM)
# Fixtures that stand for a service: a test requesting one, directly or through another fixture,
# carries the service's marker.
SERVICE_FIXTURES = {"postgres_server": POSTGRES, "redis_server": REDIS}


@functools.cache
def missing(service: Service) -> str | None:
    """Why ``service`` is unavailable (None when it is there); probed once per session."""
    return service.find_problem()


def pytest_configure(config: pytest.Config) -> None:
    missing.cache_clear()  # one probe per session, also for sessions run inside this process


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(tryfirst=True)  # before pytest deselects by marker (-m "not needs_postgres")
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, service in SERVICE_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(service.marker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for service in SERVICES:
        if item.get_closest_marker(service.marker) is None:
            continue
        reason = missing(service)
        if reason is None:
            continue
        if _ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> None:
    """Request it from a fixture that connects to PostgreSQL: its tests are ``needs_postgres``."""


@pytest.fixture(scope="session")
def redis_server() -> None:
    """Request it from a fixture that connects to Redis: its tests are ``needs_redis``."""
