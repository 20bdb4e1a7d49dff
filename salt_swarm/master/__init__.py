"""Master-side helpers for the runner: minions, their swarm facts, the node record."""
