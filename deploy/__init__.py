"""Deployment of the flights code location.

``deploy.stack`` runs the production topology on this machine (``python -m deploy.stack up``);
``deploy.processes`` starts and stops its server processes, and the tests use it for theirs;
``deploy.identity`` recognises a recorded server (pid, start time within a tolerance, command line).
``deploy.launch`` runs a job on the local instance and prints a short summary (the quick start's);
``deploy.local_instance`` copies the local instance's settings into another DAGSTER_HOME.
The other files here (Dockerfile, compose, Helm values, dagster.yaml) are not Python.
"""


class StackError(RuntimeError):
    """The stack could not be started, checked or stopped; the message says which part and why."""
