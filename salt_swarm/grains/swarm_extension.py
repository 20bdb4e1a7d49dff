"""Grain ``salt_swarm_version``: the salt-swarm version this minion runs.

Grains load in the salt-minion's main process, and every job is a process forked
from it. Importing the execution module's dependencies here (the Docker SDK and
salt-swarm's core, about 0.1 s of CPU) means each ``swarm.*`` job starts with them
already imported instead of importing them again: on a host running many jobs at
once (a 20-worker join, the plan's preflight on every member) that is CPU saved
on each. Nothing here talks to Docker.
"""

try:  # the same imports as salt_swarm/modules/swarm.py
    import salt_swarm.core.client  # noqa: F401 - imported for the forked jobs
    import salt_swarm.core.membership  # noqa: F401
    import salt_swarm.core.nodes  # noqa: F401
    import salt_swarm.core.store_join  # noqa: F401
except ImportError:  # the execution module's __virtual__ says what is missing
    pass

from salt_swarm.version import __version__


def salt_swarm_version():
    """The installed salt-swarm's version, e.g. ``{"salt_swarm_version": "0.1.0"}``."""
    return {"salt_swarm_version": __version__}
