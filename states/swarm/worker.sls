{#- A worker: join through the managers and token found in the mine. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/json.jinja" import json %}
swarm worker:
  swarm.worker:
    - advertise_addr: {{ json(swarm.advertise_addr or none) }}
    - mine_timeout: {{ json(swarm.mine_timeout) }}
