"""Exceptions raised by the core; loader modules turn them into Salt's errors."""


class SwarmError(Exception):
    """A swarm operation failed; the message is meant for the operator."""


class DockerUnavailable(SwarmError):
    """The Docker daemon could not be reached."""
