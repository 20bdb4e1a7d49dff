"""Exceptions raised by the core; loader modules turn them into Salt's errors.

Callers act on the kind (the class), never on the message text. A refusal that
crossed the wire (a minion's error, as text, in a master-side job) is recognised by
``is_refusal`` alone: every refusal's message starts with ``REFUSING``.
"""

REFUSING = "refusing to "


class SwarmError(Exception):
    """A swarm operation failed; the message is meant for the operator."""


class DockerUnavailable(SwarmError):
    """The Docker daemon could not be reached."""


class Refused(SwarmError):
    """salt-swarm declines an operation that would harm the swarm (quorum, the last
    manager, a node that is up). Final: any other manager would refuse it too."""

    def __init__(self, what: str, why: str):
        super().__init__(f"{REFUSING}{what}: {why}")


class NoManagerYet(SwarmError):
    """No active manager's address and join token could be read (the mine, the
    store): nothing to join through yet."""


def is_refusal(message: str) -> bool:
    """Whether an error that crossed the wire as ``message`` was a ``Refused``."""
    return REFUSING in str(message)
