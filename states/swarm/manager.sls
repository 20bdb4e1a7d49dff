{#- A manager: join through the managers and token found in the mine. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/json.jinja" import json %}
swarm manager:
  swarm.manager:
    - advertise_addr: {{ json(swarm.advertise_addr or none) }}
    - listen_addr: {{ json(swarm.listen_addr or none) }}
    - mine_update: True
    - mine_timeout: {{ json(swarm.mine_timeout) }}
