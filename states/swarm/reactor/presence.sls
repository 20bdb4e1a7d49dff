{#- Reactor for salt/presence/change (master config presence_events: True): lost
    minions' swarm nodes are drained, then removed after pillar swarm:lost_grace
    if they stay down. Any minion can fire this event with any `lost`: it goes to
    the runner as it came, and the runner checks it. #}
{%- from "swarm/json.jinja" import json %}
{%- if data.get("lost") %}
swarm retire lost minions:
  runner.swarm.retire:
    - args:
      - minions: {{ json(data["lost"]) }}
      - event_tag: {{ json(tag) }}
{%- endif %}
