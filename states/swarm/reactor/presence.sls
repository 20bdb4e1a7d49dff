{#- Reactor for salt/presence/change (master config presence_events: True): lost
    minions' swarm nodes are drained, then removed after pillar swarm:lost_grace
    if they stay down. #}
{%- if data.get("lost") %}
swarm retire lost minions:
  runner.swarm.retire:
    - args:
      - minions: {{ data["lost"] | json }}
{%- endif %}
