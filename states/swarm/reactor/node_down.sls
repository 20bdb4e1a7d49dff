{#- Reactor for salt/beacon/*/swarm/node/changed (the swarm beacon on the managers):
    a worker node the managers see go down is drained, then removed after pillar
    swarm:lost_grace if it stays down. Any minion can fire an event with this tag
    and any data: the node id goes to the runner as it came, and the runner reads
    the managers' own list before it changes anything. #}
{%- from "swarm/json.jinja" import json %}
{%- if data.get("node_id") and data.get("changes", {}).get("status", {}).get("new") == "down" %}
swarm retire down node:
  runner.swarm.retire:
    - args:
      - nodes: {{ json([data["node_id"]]) }}
      - event_tag: {{ json(tag) }}
{%- endif %}
