"""The swarm status report: one row per node, with the minion behind it, and quorum."""

from __future__ import annotations

from salt_swarm.core.cluster import NodeView, health
from salt_swarm.core.quorum import tolerance_text
from salt_swarm.core.table import format_table

COLUMNS = (
    ("minion", "MINION"),
    ("hostname", "HOSTNAME"),
    ("role", "ROLE"),
    ("manager_status", "MANAGER STATUS"),
    ("availability", "AVAILABILITY"),
    ("status", "STATUS"),
    ("addr", "ADDRESS"),
    ("labels", "LABELS"),
    ("engine_version", "ENGINE"),
)


def manager_status(node: NodeView) -> str | None:
    if not node.is_manager:
        return None
    return "leader" if node.leader else node.reachability


def report(nodes: list[NodeView], minion_by_node: dict[str, str]) -> dict:
    """``{nodes: [row, ...], quorum: {...}}``; rows sorted managers first, then by hostname."""
    rows = []
    for node in sorted(nodes, key=lambda n: (not n.is_manager, n.hostname, n.id)):
        row = node.as_dict()
        row["minion"] = minion_by_node.get(node.id)
        row["manager_status"] = manager_status(node)
        rows.append(row)
    return {"nodes": rows, "quorum": health(nodes)}


def render(status: dict) -> str:
    """The report as text: the node table, then the quorum line."""
    rows = []
    for row in status["nodes"]:
        labels = ",".join(f"{k}={v}" for k, v in sorted(row["labels"].items())) or None
        cells = dict(row, labels=labels)
        rows.append([cells.get(key) for key, _ in COLUMNS])
    return "\n".join(
        [format_table([h for _, h in COLUMNS], rows), "", quorum_line(status["quorum"])]
    )


def quorum_line(q: dict) -> str:
    state = "ok" if q["has_quorum"] else "LOST"
    line = (
        f"quorum {state}: {q['managers']} managers, {q['reachable']} reachable, "
        f"{q['quorum']} needed, {tolerance_text(q['managers'], q['reachable'])}; "
        f"{q['workers']} workers; leader {q['leader'] or '-'}"
    )
    if q["nodes_down"]:
        line += f"; not ready: {', '.join(q['nodes_down'])}"
    return line
