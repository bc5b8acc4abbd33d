"""The code version a run records: the package version, plus the git commit in a checkout."""

from __future__ import annotations

import subprocess
from functools import lru_cache

import graph
from graph.resources import CHECKOUT

__all__ = ["code_version"]


@lru_cache(maxsize=1)
def code_version() -> str:
    """``<package version>+<git describe>`` when running from a checkout, else the package version."""
    if CHECKOUT is None:
        return graph.__version__
    try:
        done = subprocess.run(
            ["git", "-C", str(CHECKOUT), "describe", "--always", "--dirty"],
            capture_output=True, text=True, check=False, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return graph.__version__
    commit = done.stdout.strip()
    return f"{graph.__version__}+{commit}" if done.returncode == 0 and commit else graph.__version__
