{#- Reactor for salt/minion/*/start: a minion that pillar puts in a swarm role and
    that is not an active member joins through the mine, then gets its
    availability and labels. Members already in place change nothing; a minion in
    no role, or with no swarm yet, is left alone (swarm.bootstrap creates swarms).
    The id is whatever string the minion registered with (it may hold newlines or
    YAML): it and the tag go to the runner as data, never into a state ID. #}
{%- from "swarm/json.jinja" import json %}
{%- if data.get("id") %}
swarm join minion:
  runner.swarm.join_minion:
    - args:
      - minion: {{ json(data["id"]) }}
      - event_tag: {{ json(tag) }}
{%- endif %}
