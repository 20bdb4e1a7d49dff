{#- Reactor for salt/key: a deleted minion key retires that minion's swarm node
    (drained now, removed after pillar swarm:lost_grace if it stays down). #}
{%- from "swarm/json.jinja" import json %}
{%- if data.get("act") == "delete" and data.get("id") %}
swarm retire deleted minion:
  runner.swarm.retire:
    - args:
      - minions: [{{ json(data["id"]) }}]
      - event_tag: {{ json(tag) }}
{%- endif %}
