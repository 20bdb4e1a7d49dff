{#- The first manager: initialize the swarm here unless this node manages one. -#}
{%- from "swarm/map.jinja" import swarm with context %}
swarm initialized:
  swarm.initialized:
    - advertise_addr: {{ (swarm.advertise_addr or none) | json }}
    - listen_addr: {{ (swarm.listen_addr or none) | json }}
    - mine_update: True
{%- for key in ("default_addr_pool", "subnet_size", "data_path_port", "autolock") %}
{%- if swarm.init.get(key) is not none %}
    - {{ key }}: {{ swarm.init[key] | json }}
{%- endif %}
{%- endfor %}
