"""`ringtrace detect` that stalls in the middle of its write stage: the fault-injection tests' victim.

Run as ``python tests/integration/stalled_detect.py MARKER [detect options]``. Everything is the real
command against the real Neo4j, except that once the first batch of the write stage has committed, the
process writes the run's id to MARKER and sleeps for ever (its heartbeat thread keeps beating), so a
test can look at a half-written run, start a competing detection, or SIGKILL it mid-write.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from graph.store import write_back


def main() -> None:
    marker = Path(sys.argv[1])
    write = write_back._write

    def stall_after_first_batch(*args: Any, **kwargs: Any) -> None:
        write(*args, **kwargs)
        marker.write_text(str(args[3]))  # _write(driver, database, query, run_id, rows)
        while True:
            time.sleep(3600)

    write_back._write = stall_after_first_batch  # type: ignore[assignment]
    from graph.cli import main as ringtrace

    sys.argv = ["ringtrace", "detect", *sys.argv[2:]]
    ringtrace()


if __name__ == "__main__":
    main()
