base:
  '*':
    - swarm
