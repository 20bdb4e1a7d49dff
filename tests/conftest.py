pytest_plugins = ["salt_swarm.lab.fixtures"]
