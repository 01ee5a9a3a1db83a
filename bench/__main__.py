"""`uv run python -m bench`: the same as `uv run python bench/run.py`."""

import sys

from bench.main import main

sys.exit(main())
