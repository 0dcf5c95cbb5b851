"""Run the ``nbflow`` command as ``python -m nbflow``.

Imports: nbflow.cli.
"""

from __future__ import annotations

import sys

from nbflow.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
