"""Unit tests for salt_swarm.core.status: the status report and its text form."""

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.status import render, report


def nodes():
    return [
        NodeView("w", "worker1", "worker", "active", "ready", "198.18.0.13", {"zone": "a"}),
        NodeView("m2", "manager2", "manager", "drain", "down", "198.18.0.11", {}, "unreachable"),
        NodeView(
            "m1",
            "manager1",
            "manager",
            "drain",
            "ready",
            "198.18.0.10",
            {},
            "reachable",
            True,
            "20.10",
        ),
    ]


def test_report_rows_managers_first_with_minion_ids():
    data = report(nodes(), {"m1": "mgr-1", "w": "wrk-1"})
    assert [r["hostname"] for r in data["nodes"]] == ["manager1", "manager2", "worker1"]
    assert [r["minion"] for r in data["nodes"]] == ["mgr-1", None, "wrk-1"]
    assert [r["manager_status"] for r in data["nodes"]] == ["leader", "unreachable", None]
    assert data["quorum"]["managers"] == 2 and data["quorum"]["reachable"] == 1
    assert data["quorum"]["has_quorum"] is False


def test_render_has_a_header_a_row_per_node_and_the_quorum_line():
    text = render(report(nodes(), {"m1": "mgr-1"}))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["MINION", "HOSTNAME", "ROLE"]
    assert lines[1].split()[:4] == ["mgr-1", "manager1", "manager", "leader"]
    assert lines[3].split()[-2:] == ["zone=a", "-"]
    assert lines[-1] == (
        "quorum LOST: 2 managers, 1 reachable, 2 needed, survives 0 more manager failure(s) "
        "(0 with all reachable); "
        "1 workers; leader manager1; not ready: manager2"
    )
