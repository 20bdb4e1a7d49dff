{#- Run on a manager: role, availability and labels of the nodes named in pillar
    `swarm_nodes` ({hostname: {role: ..., availability: ..., labels: {...}}}), as
    `salt-run swarm.plan` computes them from the role targets and `swarm:labels`.
    The orchestrate itself uses the state swarm.settled (any answering
    manager, promotions before demotions); this SLS is for running by hand. -#}
{%- from "swarm/steps.jinja" import own with context %}
{#- First: a rebuilt host joins as a new node; its old self goes once Down
    (steps: salt_swarm/core/highstate_steps.py). #}
{{ own("swarm.node", salt["pillar.get"]("swarm_nodes", {})) }}
