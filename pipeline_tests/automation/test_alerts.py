"""Alerts: a failed run becomes one alert through the notifier — a JSON line in the alert log, and
a POST to the webhook when one is set. The run-failure sensor is fed a real failed run, and the
webhook is a real HTTP server on 127.0.0.1.
"""

import http.server
import json
import socket
import threading
from pathlib import Path

import dagster as dg
import pytest

from pipeline.automation.alerts import AlertNotifier, run_failure_alert
from pipeline_tests.support import definitions_with, make_resources


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory, seeded_landing):
    """A real run of load_landed_files that fails: May's flights file is cut mid-row."""
    root = tmp_path_factory.mktemp("failed_run")
    landing_dir = root / "landing"
    landing_dir.mkdir()
    source = (seeded_landing / "flights_2013-05.csv").read_bytes()
    (landing_dir / "flights_2013-05.csv").write_bytes(source[: len(source) // 3])
    job = definitions_with(make_resources(root, landing_dir)).resolve_job_def("load_landed_files")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            partition_key="2013-05-01",
            asset_selection=[dg.AssetKey(["raw", "flights"])],
            raise_on_error=False,
        )
        assert not result.success
        yield instance, result


def _alert(failed_run, notifier: AlertNotifier) -> None:
    instance, result = failed_run
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"notifier": notifier},
    ).for_run_failure()
    run_failure_alert(context)


def _records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_failed_run_is_written_to_the_alert_log(failed_run, tmp_path, monkeypatch):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    log = tmp_path / "alerts" / "alerts.jsonl"

    _alert(failed_run, AlertNotifier(log_path=str(log)))

    [record] = _records(log)
    assert record["kind"] == "run_failure"
    assert record["run_id"] == failed_run[1].run_id
    assert record["job"] == "load_landed_files"
    assert record["partition"] == "2013-05-01"
    [step] = record["failed_steps"]
    assert step["step"] == "raw__flights"
    assert "flights_2013-05.csv" in step["error"]


class _Webhook(http.server.ThreadingHTTPServer):
    """A tiny webhook receiver on 127.0.0.1 that answers every POST with ``status``."""

    def __init__(self, status: int):
        self.status = status
        self.received: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, self.headers["Content-Type"], body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def webhook_server(request):
    server = _Webhook(getattr(request, "param", 200))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.server_address, timeout=1)


def test_webhook_from_the_environment_receives_the_alert(failed_run, tmp_path, webhook_server, monkeypatch):
    host, port = webhook_server.server_address
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://{host}:{port}/hooks/flights?token=s3cret")
    log = tmp_path / "alerts.jsonl"

    _alert(failed_run, AlertNotifier(log_path=str(log)))

    [(path, content_type, body)] = webhook_server.received
    assert path == "/hooks/flights?token=s3cret"
    assert content_type == "application/json"
    posted = json.loads(body)
    [logged] = _records(log)
    assert posted == {key: value for key, value in logged.items() if key != "logged_at"}
    assert posted["run_id"] == failed_run[1].run_id


@pytest.mark.parametrize("webhook_server", [503], indirect=True)
def test_webhook_that_fails_keeps_the_alert_in_the_log(failed_run, tmp_path, webhook_server, monkeypatch):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    host, port = webhook_server.server_address
    log = tmp_path / "alerts.jsonl"
    notifier = AlertNotifier(
        log_path=str(log), webhook_url=f"http://{host}:{port}/hooks?token=s3cret", webhook_attempts=2
    )

    _alert(failed_run, notifier)

    assert len(webhook_server.received) == 2
    alert, failure = _records(log)
    assert alert["run_id"] == failed_run[1].run_id
    assert failure["kind"] == "webhook_delivery_failed"
    assert failure["error"] == "webhook at 127.0.0.1 failed after 2 attempt(s): 503"
    assert "s3cret" not in log.read_text()
