{#- Docker Engine from the distribution's own packages, kept running and enabled at
    boot. Off unless pillar swarm:engine:install is true: where Docker comes from
    somewhere else (Docker's apt repository, a base image, the lab's own dockerd)
    the formula leaves it alone and says so.

    swarm:engine:install  true to install and run the engine (default false)
    swarm:engine:package  the package (default docker.io on Debian and Ubuntu;
                          other systems must name it)
    swarm:engine:service  the service (default docker)

    Apply it before swarm (top file: swarm.engine, then swarm), so dockerd runs
    before the node inits or joins. Decided in
    salt_swarm/core/highstate_steps.py (engine). -#}
{%- from "swarm/steps.jinja" import own with context %}
{{ own("swarm.engine", {"engine": salt["pillar.get"]("swarm:engine", {})}) }}
