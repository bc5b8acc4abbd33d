"""Where the files that are not Python live: the Cypher schema and library, the local server's pom.

From a checkout they are the repository's own `cypher/` and `neo4j/` (what people read and edit); a
wheel installs copies under `<prefix>/share/ringtrace/` (pyproject `data-files`), so a plain
`pip install .` runs every command without the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final, Literal

from graph.errors import RingtraceError

__all__ = ["CHECKOUT", "default_neo4j_home", "resource_dir"]

_PACKAGE_PARENT: Final = Path(__file__).resolve().parent.parent
#: The repository when running from a checkout (it holds pyproject.toml next to graph/), else None.
CHECKOUT: Final = _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").is_file() else None


def resource_dir(name: Literal["cypher", "neo4j"]) -> Path:
    """The directory of `name`: the checkout's own, else the installed copy."""
    candidates = [CHECKOUT / name] if CHECKOUT is not None else []
    candidates.append(Path(sys.prefix) / "share" / "ringtrace" / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise RingtraceError(f"ringtrace's {name}/ files are missing (looked in {', '.join(map(str, candidates))}); "
                         "reinstall the package")


def default_neo4j_home() -> Path:
    """Data and logs of the local development server: `.neo4j/` in a checkout, else the user's data dir."""
    if CHECKOUT is not None:
        return CHECKOUT / ".neo4j"
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "ringtrace" / "neo4j"
