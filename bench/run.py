"""`uv run python bench/run.py [options]`: run the benchmark (see bench/README.md).

The same as `uv run python -m bench`; this file only lets the documented command work.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path; the package needs the repository.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

    from bench.main import main

    sys.exit(main())
