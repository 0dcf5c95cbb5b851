"""``python -m nbflow.cli``: the same as the ``nbflow`` command."""

from __future__ import annotations

import sys

from nbflow.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
