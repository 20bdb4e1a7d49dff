{#- Orchestrate: rolling maintenance (the runner swarm.maintain as one state).
    salt-run state.orchestrate swarm.maintain pillar='{maintain: {tgt: "worker*", sls: patch}}'
    Pillar maintain takes the runner's arguments: tgt, tgt_type, sls or fun (with arg,
    kwarg), batch, fresh, budget_wait, drain_wait, up_wait, timeout. They are checked
    in Python (salt_swarm/core/maintain_steps.py); this file writes the step out. -#}
{%- from "swarm/steps.jinja" import write %}
{{ write(salt["swarm.maintain_steps"](pillar.get("maintain"))) }}
