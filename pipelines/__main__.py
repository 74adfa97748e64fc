"""``python -m pipelines``: client mode, kept under the name users type; it lives beside the module in ci/client/."""

import sys

from ci.client.cli import main

sys.exit(main())
