"""The service markers (pipeline_tests/services.py) in a pytest session of their own: a test that
needs PostgreSQL or Redis on a port where nothing listens is skipped with a reason naming the
service and the command that provides it, and fails under ``CI=true``; on the real PostgreSQL it
runs. A fixture that requests ``postgres_server`` marks the tests that use it.
"""

from __future__ import annotations

import socket

import pytest

pytest_plugins = ["pytester"]

PLUGIN = "pipeline_tests.services"

NEEDS_POSTGRES = """
import pytest

@pytest.mark.needs_postgres
def test_reads_the_catalog():
    pass
"""

NEEDS_REDIS = """
import pytest

pytestmark = pytest.mark.needs_redis

def test_queues_a_run():
    pass
"""

STACK_FIXTURE = """
import pytest

@pytest.fixture
def stack(postgres_server):
    return "up"

def test_uses_the_stack(stack):
    pass

def test_needs_nothing():
    pass
"""


@pytest.fixture(autouse=True)
def no_installed_plugins(monkeypatch):
    """The sessions under test load only the plugin: installed ones cost seconds each to import."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)


@pytest.mark.usefixtures("outside_ci")
def test_without_postgres_the_test_is_skipped_with_the_reason(pytester, monkeypatch, closed_port):
    monkeypatch.setenv("TEST_POSTGRES_ADDRESS", f"127.0.0.1:{closed_port}")
    pytester.makepyfile(NEEDS_POSTGRES)
    result = pytester.runpytest("-p", PLUGIN, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [f"*PostgreSQL is not accepting connections on 127.0.0.1:{closed_port}: run bash deploy/test.sh*"]
    )


def test_without_postgres_under_ci_the_test_fails(pytester, monkeypatch, closed_port):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TEST_POSTGRES_ADDRESS", f"127.0.0.1:{closed_port}")
    pytester.makepyfile(NEEDS_POSTGRES)
    result = pytester.runpytest("-p", PLUGIN)
    result.assert_outcomes(errors=1)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [f"*CI=true and PostgreSQL is not accepting connections on 127.0.0.1:{closed_port}*"]
    )


@pytest.mark.parametrize("ci", [None, "true"], ids=["outside CI", "CI=true"])
def test_with_postgres_up_the_test_runs(pytester, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("TEST_POSTGRES_ADDRESS", raising=False)  # the real server on 127.0.0.1:5432
    pytester.makepyfile(NEEDS_POSTGRES)
    pytester.runpytest("-p", PLUGIN).assert_outcomes(passed=1)


@pytest.mark.usefixtures("outside_ci")
def test_a_module_marked_for_redis_is_skipped_without_it(pytester, monkeypatch, closed_port):
    monkeypatch.setenv("TEST_REDIS_ADDRESS", f"127.0.0.1:{closed_port}")
    pytester.makepyfile(NEEDS_REDIS)
    result = pytester.runpytest("-p", PLUGIN, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*Redis is not accepting connections on 127.0.0.1:{closed_port}*"])


@pytest.mark.usefixtures("outside_ci")
def test_a_fixture_requesting_postgres_marks_only_the_tests_that_use_it(pytester, monkeypatch, closed_port):
    monkeypatch.setenv("TEST_POSTGRES_ADDRESS", f"127.0.0.1:{closed_port}")
    pytester.makepyfile(STACK_FIXTURE)
    pytester.runpytest("-p", PLUGIN).assert_outcomes(passed=1, skipped=1)
    # The marker is there for -m too: the fast loop without a server can leave those tests out.
    pytester.runpytest("-p", PLUGIN, "-m", "not needs_postgres").assert_outcomes(passed=1, deselected=1)


@pytest.mark.usefixtures("outside_ci")
def test_without_chromium_on_the_path_the_browser_test_is_skipped(pytester, monkeypatch):
    monkeypatch.setenv("PATH", str(pytester.path))
    pytester.makepyfile("import pytest\n\n@pytest.mark.needs_chromium\ndef test_opens_the_ui():\n    pass\n")
    result = pytester.runpytest("-p", PLUGIN, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*chromium is not installed*run bash deploy/test.sh*"])
