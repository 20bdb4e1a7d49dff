"""Outputter for ``salt-run swarm.status``: the node table and the quorum line.

CLI Example:

.. code-block:: bash

    salt-run swarm.status --out=swarm_status
"""

from salt_swarm.core import status as status_report

__virtualname__ = "swarm_status"


def __virtual__():
    return __virtualname__


def output(data, **kwargs):  # pylint: disable=unused-argument
    """``data``, the return of ``swarm.status`` (``{nodes, quorum}``), as the table and
    the quorum line; anything else (an error) as Salt's nested outputter shows it."""
    if isinstance(data, dict) and "nodes" in data and "quorum" in data:
        return status_report.render(data)
    return __salt__["nested"](data) if "nested" in __salt__ else str(data)
