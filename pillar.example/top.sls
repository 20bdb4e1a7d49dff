# Pillar top file for the salt-swarm example (used by the lab and the demo).
base:
  '*':
    - swarm
