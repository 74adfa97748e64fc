"""``python -m pipelines``: client mode, under the name users type; it lives in runner_image/client/."""

import sys

from runner_image.client.cli import main

sys.exit(main())
