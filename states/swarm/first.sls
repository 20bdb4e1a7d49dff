{#- The first manager: initialize the swarm here unless this node manages one. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/json.jinja" import json %}
swarm initialized:
  swarm.initialized:
    - advertise_addr: {{ json(swarm.advertise_addr or none) }}
    - listen_addr: {{ json(swarm.listen_addr or none) }}
    - mine_update: True
{%- for key in ("default_addr_pool", "subnet_size", "data_path_port", "autolock") %}
{%- if swarm.init.get(key) is not none %}
    - {{ key }}: {{ json(swarm.init[key]) }}
{%- endif %}
{%- endfor %}
