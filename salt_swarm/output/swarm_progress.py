"""Outputter for the lines ``salt-run swarm.maintain`` and ``salt-run swarm.watch``
print while they work: the line alone, not Salt's nested view of the event.

CLI Example:

.. code-block:: bash

    salt-run swarm.watch
"""

__virtualname__ = "swarm_progress"


def __virtual__():
    return __virtualname__


def output(data, **kwargs):  # pylint: disable=unused-argument
    """A progress event (``{suffix, event: {message}}``) as its message; anything else
    as Salt's nested outputter shows it."""
    event = data.get("event") if isinstance(data, dict) else None
    if isinstance(event, dict) and isinstance(event.get("message"), str):
        return event["message"]
    return __salt__["nested"](data) if "nested" in __salt__ else str(data)
