"""Grain ``salt_swarm_version``: the salt-swarm version this minion runs.

Grains load in the salt-minion's main process, and every job is a process forked
from it. Importing the execution module here (with it the Docker SDK and every part
of salt-swarm's core it uses, about 0.1 s of CPU) means each ``swarm.*`` job starts
with them already imported: on a host running many jobs at once (a 20-worker join,
the plan's preflight on every member) that is CPU saved on each. The loader still
loads its own copy of the module; only the imports are shared. Nothing here talks
to Docker.

The minion's private key is loaded here too (``salt_internals.minion_private_key``,
cached per process): a join opens the token the master sealed to that key, and
loading it (the key check) costs about 30 ms of CPU, which a forked job then does
not pay.
"""

import logging
import os

# Without the Docker SDK this import still works: the module's __virtual__ then
# says what is missing.
import salt_swarm.modules.swarm  # noqa: F401 - imported for the forked jobs
from salt_swarm.version import __version__

log = logging.getLogger(__name__)


def _load_minion_key():
    try:
        from salt_swarm.salt_internals import minion_private_key

        if os.path.isfile(os.path.join(__opts__["pki_dir"], "minion.pem")):
            minion_private_key(__opts__)
    except Exception as exc:  # a grain must never fail the minion's start
        log.debug("salt_swarm grain: minion key not preloaded: %s", exc)


def salt_swarm_version():
    """The installed salt-swarm's version, e.g. ``{"salt_swarm_version": "0.1.0"}``."""
    _load_minion_key()
    return {"salt_swarm_version": __version__}
