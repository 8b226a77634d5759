"""Where the project's own files and its local state live, checked out or installed.

The migrations are the repository's top-level ``sql/``; the wheel carries the same files as
``smart_warehouse_assets/sql/`` (pyproject maps the one onto the other), so a wheel install,
a container image and an editable checkout all find them here. Local state — the Dagster
home, the seed manifest, the embedded server, backups — lives in the checkout when the code
runs from one, and under the directory a command is started from when it is installed
(``SMART_STATE_DIR`` puts the seed manifest, embedded server and backups elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_REPOSITORY = PACKAGE_DIR.parent
IN_CHECKOUT = (_REPOSITORY / "pyproject.toml").is_file() and (_REPOSITORY / "sql").is_dir()

# The repository's own folder in a checkout; inside the package once installed from a wheel.
SQL_ROOT = _REPOSITORY / "sql" if IN_CHECKOUT else PACKAGE_DIR / "sql"

PROJECT_ROOT = _REPOSITORY if IN_CHECKOUT else Path.cwd()
STATE_ENV = "SMART_STATE_DIR"  # another folder for the local state (tests use their own)
STATE_DIR = Path(os.environ.get(STATE_ENV) or PROJECT_ROOT / ".smart-warehouse")
MANIFEST_PATH = STATE_DIR / "seed_manifest.json"
BACKUP_DIR = STATE_DIR / "backups"  # `backup` and the scheduled backup job write here by default
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
