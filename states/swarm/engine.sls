{#- Docker Engine from the distribution's own packages, kept running and enabled at
    boot. Off unless pillar swarm:engine:install is true: where Docker comes from
    somewhere else (Docker's apt repository, a base image, the lab's own dockerd)
    the formula leaves it alone and says so.

    swarm:engine:install  true to install and run the engine (default false)
    swarm:engine:package  the package (default docker.io on Debian and Ubuntu;
                          other systems must name it)
    swarm:engine:service  the service (default docker)

    Apply it before swarm (top file: swarm.engine, then swarm), so dockerd runs
    before the node inits or joins. -#}
{%- set install = salt["pillar.get"]("swarm:engine:install", False) %}
{%- set default_package = "docker.io" if grains.get("os_family") == "Debian" else none %}
{%- set package = salt["pillar.get"]("swarm:engine:package", none) or default_package %}
{%- set service = salt["pillar.get"]("swarm:engine:service", none) or "docker" %}
{%- if install is sameas false or install is none %}

swarm engine not managed:
  test.nop:
    - name: {{ "Docker Engine is left alone: pillar swarm:engine:install is false (set it to true to install the distribution's package and keep its service running)" | json }}
{%- elif install is not sameas true %}

swarm engine install flag:
  swarm.refused:
    - name: swarm:engine:install
    - reason: {{ ("swarm:engine:install: expected true or false, got " ~ (install | json)) | json }}
{%- elif not package %}

swarm engine package unknown:
  swarm.refused:
    - name: swarm:engine:package
    - reason: {{ ("no default Docker package for os_family " ~ grains.get("os_family", "unknown") ~ ": set pillar swarm:engine:package") | json }}
{%- else %}

swarm engine package:
  pkg.installed:
    - name: {{ package | json }}

swarm engine service:
  service.running:
    - name: {{ service | json }}
    - enable: True
    - require:
      - pkg: swarm engine package
{%- endif %}
