{#- Reactor for salt/key: a deleted minion key retires that minion's swarm node
    (drained now, removed after pillar swarm:lost_grace if it stays down). #}
{%- if data.get("act") == "delete" and data.get("id") %}
swarm retire minion {{ data["id"] }}:
  runner.swarm.retire:
    - args:
      - minions: [{{ data["id"] | json }}]
{%- endif %}
