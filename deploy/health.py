"""Is each part of the stack healthy? Asked the way Dagster itself asks, over the network.

Each check returns ``(healthy, detail)``: the detail says what is missing while a part starts.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from deploy import StackError

# The service name Dagster's code server reports its health for.
GRPC_HEALTH_SERVICE = "DagsterApi"
# What a webserver that is not up yet (or a daemon check without a webserver) raises.
UNREACHABLE = (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout)

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

DAEMON_HEALTH_QUERY = """
query DaemonHealth {
  instance {
    daemonHealth {
      allDaemonStatuses { daemonType required healthy lastHeartbeatTime }
    }
  }
}
"""

RELOAD_LOCATION = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry { loadStatus }
    ... on PythonError { message }
  }
}
"""


def graphql(webserver_url: str, query: str, variables: Mapping | None = None) -> dict:
    """The ``data`` of a GraphQL answer from the webserver; StackError if it reports errors."""
    request = urllib.request.Request(
        f"{webserver_url}/graphql",
        data=json.dumps({"query": query, "variables": dict(variables or {})}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise StackError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


def code_server(host: str, port: int) -> tuple[bool, str]:
    """The gRPC health protocol, as ``dagster api grpc-health-check`` asks it.

    Asked in process: starting that command for every poll would cost a Dagster import (~1 s).
    """
    target = f"{host}:{port}"
    try:
        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=GRPC_HEALTH_SERVICE), timeout=10
            )
    except grpc.RpcError as error:
        return False, f"{target}: {error.code().name}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return status == "SERVING", f"{target}: {status}"


def webserver(webserver_url: str, location: str) -> tuple[bool, str]:
    """``/server_info`` answers, and the webserver has loaded ``location`` from the code server.

    The first alone is true before the webserver could reach the code server: a UI whose
    location failed to load answers /server_info all the same.
    """
    try:
        with urllib.request.urlopen(f"{webserver_url}/server_info", timeout=5) as response:
            if response.status != 200:
                return False, f"/server_info answered {response.status}"
        workspace = graphql(webserver_url, WORKSPACE_QUERY)["workspaceOrError"]
    except UNREACHABLE as error:
        return False, str(error)
    if workspace["__typename"] != "Workspace":
        return False, workspace.get("message", workspace["__typename"])
    entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
    entry = entries.get(location)
    if entry is None:
        return False, f"location {location} not in the workspace"
    loaded = entry["locationOrLoadError"] or {}
    if entry["loadStatus"] != "LOADED" or loaded.get("__typename") != "RepositoryLocation":
        return False, f"location {location}: {entry['loadStatus']} {loaded.get('message', '')}"
    return True, "location loaded"


def daemon(webserver_url: str, since: float = 0.0) -> tuple[bool, str]:
    """Every required daemon has sent a heartbeat since ``since`` (so not a predecessor's).

    The daemon serves nothing; its heartbeats are stored in the instance, read through the
    webserver.
    """
    try:
        statuses = graphql(webserver_url, DAEMON_HEALTH_QUERY)["instance"]["daemonHealth"][
            "allDaemonStatuses"
        ]
    except UNREACHABLE as error:
        return False, f"webserver unreachable to read daemon health: {error}"
    waiting = [
        s["daemonType"]
        for s in statuses
        if s["required"] and not (s["healthy"] and (s["lastHeartbeatTime"] or 0) >= since)
    ]
    return not waiting, f"waiting for heartbeats of {', '.join(waiting)}" if waiting else "ok"


def reload_location(webserver_url: str, location: str) -> None:
    """Make the webserver reconnect to a restarted code server now, rather than when it notices."""
    result = graphql(webserver_url, RELOAD_LOCATION, {"name": location})["reloadRepositoryLocation"]
    if result["__typename"] != "WorkspaceLocationEntry":
        raise StackError(f"Reloading location {location} failed: {result}")


def celery_worker(broker_url: str, name: str) -> tuple[bool, str]:
    """The Celery worker ``name`` answers a ping over the broker (as ``celery inspect ping``)."""
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(destination=[name], timeout=2.0)
    except Exception as error:  # the broker is down or refuses us: not healthy, say why
        return False, f"{name}: {error}"
    finally:
        app.close()
    return bool(replies), f"{name}: {'pong' if replies else 'no reply'}"
