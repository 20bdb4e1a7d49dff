# salt-swarm pillar. The formula (states/swarm/) reads everything under `swarm:`.
swarm: {}
