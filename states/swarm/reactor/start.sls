{#- Reactor for salt/minion/*/start: a minion that pillar puts in a swarm role and
    that is not an active member joins through the mine, then gets its
    availability and labels. Members already in place change nothing; a minion in
    no role, or with no swarm yet, is left alone (swarm.bootstrap creates swarms). #}
{%- if data.get("id") %}
swarm join minion {{ data["id"] }}:
  runner.swarm.join_minion:
    - args:
      - minion: {{ data["id"] | json }}
{%- endif %}
