"""The lab: N test hosts on one Linux machine (root), for tests, benchmarks and the demo.

Each host is a network namespace plus a UTS namespace (hostname = minion id), a veth
on one bridge, its own dockerd and its own salt-minion; one salt-master listens on the
bridge. Run ``python -m lab --help``.
"""

from lab.lab import Lab

__all__ = ["Lab"]
