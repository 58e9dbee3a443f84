"""``python -m deploy.stack up|down|status|restart``: the command line of deploy/stack.py's Stack."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from deploy import StackError
from deploy import stack as stack_module
from deploy.stack import Stack
from deploy.topology import (
    COMPONENTS,
    DEFAULT_GRPC_PORT,
    DEFAULT_HOME,
    DEFAULT_HOST,
    DEFAULT_VIEWER_PORT,
    DEFAULT_WEBSERVER_PORT,
    DEFAULT_WORKERS,
    STATE_FILE_NAME,
    Settings,
)

STACK_DOC = (stack_module.__doc__ or "").splitlines()[0]


def _recorded_stack(args: argparse.Namespace) -> Stack:
    """Commands after ``up`` reuse the ports, host and environment that ``up`` recorded."""
    state_file = args.home / STATE_FILE_NAME
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    recorded = state.get("settings", {})
    settings = Settings(
        home=args.home,
        host=recorded.get("host", args.host),
        grpc_port=recorded.get("grpc_port", args.grpc_port),
        webserver_port=recorded.get("webserver_port", args.webserver_port),
        read_only=recorded.get("read_only", args.read_only),
        viewer_port=recorded.get("viewer_port", args.viewer_port),
        workers=recorded.get("workers", args.workers),
    )
    return Stack(settings, {**os.environ, **state.get("environment", {})})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=STACK_DOC)
    parser.add_argument("action", choices=["up", "down", "status", "restart"])
    parser.add_argument("components", nargs="*", metavar="component",
                        help=f"for restart: any of {', '.join(COMPONENTS)}, worker-N (default all)")  # fmt: skip
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="instance folder")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address the servers bind to")
    parser.add_argument("--grpc-port", type=int, default=DEFAULT_GRPC_PORT)
    parser.add_argument("--webserver-port", type=int, default=DEFAULT_WEBSERVER_PORT)
    parser.add_argument("--read-only", action="store_true", help="webserver cannot launch or change anything")
    parser.add_argument(
        "--viewer-port", type=int, default=DEFAULT_VIEWER_PORT, help="the read-only webserver"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="Celery workers (WAREHOUSE_BACKEND=ducklake only)")  # fmt: skip
    args = parser.parse_args(argv)
    args.home = args.home.resolve()

    if args.action == "up":
        settings = Settings(
            args.home, args.host, args.grpc_port, args.webserver_port, args.read_only,
            args.viewer_port, args.workers,
        )  # fmt: skip
        stack = Stack(settings)
    else:
        stack = _recorded_stack(args)
        settings = stack.settings
    unknown = [c for c in args.components if c not in stack.components]
    if unknown or (args.components and args.action != "restart"):
        parser.error(f"components ({', '.join(stack.components)}) are given to restart only")
    try:
        if args.action == "up":
            stack.up()
            print(
                f"Dagster UI: {settings.webserver_url}  read-only: {settings.viewer_url}  (instance {settings.home})"
            )
        elif args.action == "down":
            stack.down()
            print("stopped")
        elif args.action == "restart":
            for component in args.components or stack.components:
                stack.restart(component)
                print(f"restarted {component}")
        for component, line in stack.status().items():
            print(f"{component:12} {line}")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
