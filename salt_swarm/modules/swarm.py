"""Docker Swarm execution module.

Talks to the local Docker daemon through the Docker SDK. Where the daemon is comes
from the minion config or pillar (``swarm:docker_url``, ``swarm:tls_cert``,
``swarm:tls_key``, ``swarm:tls_ca``, ``swarm:tls_verify``, ``swarm:timeout``), else
``DOCKER_HOST``, else the local socket.
"""

import logging
from contextlib import contextmanager

from salt.exceptions import CommandExecutionError

try:
    from salt_swarm.core import local_node
    from salt_swarm.core.client import DEFAULT_TIMEOUT, DockerSettings, docker_errors, make_client
    from salt_swarm.core.errors import SwarmError

    HAS_DOCKER_SDK = True
    IMPORT_ERROR = ""
except ImportError as exc:  # pragma: no cover - exercised only without the SDK
    HAS_DOCKER_SDK = False
    IMPORT_ERROR = str(exc)

log = logging.getLogger(__name__)

__virtualname__ = "swarm"


def __virtual__():
    if not HAS_DOCKER_SDK:
        return (
            False,
            f"swarm: the Docker SDK for Python (docker>=7) is not importable: {IMPORT_ERROR}; "
            "install it with 'pip install docker' in Salt's Python",
        )
    return __virtualname__


def _settings():
    get = __salt__["config.get"]
    return DockerSettings(
        url=get("swarm:docker_url", "") or "",
        tls_cert=get("swarm:tls_cert", "") or "",
        tls_key=get("swarm:tls_key", "") or "",
        tls_ca=get("swarm:tls_ca", "") or "",
        tls_verify=bool(get("swarm:tls_verify", True)),
        timeout=int(get("swarm:timeout", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT),
    )


@contextmanager
def _docker(action):
    """Yield a fresh client; any failure becomes CommandExecutionError with Docker's message."""
    client = None
    try:
        client = make_client(_settings())
        with docker_errors(action):
            yield client
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from exc
    finally:
        if client is not None:
            client.close()


def info():
    """
    Return the local node's swarm membership as Docker reports it.

    Keys: ``state`` (inactive, pending, active, error or locked), ``node_id``,
    ``address`` (the advertised address), ``manager`` (true on a manager),
    ``cluster_id``, ``managers`` and ``nodes`` (counts, seen from a manager),
    ``remote_managers``, ``error``, ``hostname``, ``engine_version``.

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.info
    """
    with _docker("docker info") as client:
        return local_node.summarize(client.info())
