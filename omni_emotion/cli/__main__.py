"""``python -m omni_emotion.cli`` (and ``torchrun ... -m omni_emotion.cli train ...``): the console script."""

import sys

from omni_emotion.cli import main

sys.exit(main())
