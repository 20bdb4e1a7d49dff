{#- Highstate entry point: this node converges alone, by its role in pillar.
    With swarm:token_store (an sdb URI), membership goes through that store and no
    master is needed (swarm.store). Otherwise a manager or worker joins an existing
    swarm through the mine; nobody creates a swarm here unless pillar names it
    `swarm:first_manager` (two managers running highstate at once must never make
    two swarms): build new swarms with the orchestrate `swarm.bootstrap`. A minion
    in neither role gets nothing. The choice is made in Python
    (salt_swarm/core/highstate_steps.py, swarm.own_steps), which also refuses a
    formula of another salt-swarm version than the minion's extension. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/steps.jinja" import own with context %}
{{ own("swarm", swarm) }}
