import sys

from salt_swarm.lab.cli import main

sys.exit(main())
