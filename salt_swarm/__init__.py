"""salt-swarm: Docker Swarm for SaltStack.

Salt finds ``modules/``, ``states/`` and ``runners/`` in this package through the
``salt.loader`` entry point. Do not add subpackages named after other Salt loader
types (``utils``, ``engines``, ...) unless they are meant to be loaded as such.
"""

from salt_swarm.version import __version__

__all__ = ["__version__"]
