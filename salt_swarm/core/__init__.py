"""Plain-Python core of salt-swarm: no Salt dunders here, so everything is testable alone."""
