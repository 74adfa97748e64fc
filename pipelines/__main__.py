"""``python -m pipelines``: see pipelines.client.cli."""

import sys

from pipelines.client.cli import main

sys.exit(main())
