"""The partition functions behind each detection method, imported only when a method is chosen.

A plain ``pip install .`` has every dependency of the default method; an optional backend
(networkit's PLM, in the ``fast`` extra) is imported on first use and names its extra when missing.
"""

from __future__ import annotations

import importlib
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from graph.errors import MissingExtraError

__all__ = ["Partition", "partition_for"]


class Partition(Protocol):
    """Community label per node of the graph on ``range(n_nodes)`` with the given sorted edges."""

    def __call__(
        self,
        n_nodes: int,
        src: npt.NDArray[np.int32],
        dst: npt.NDArray[np.int32],
        weight: npt.NDArray[np.float64],
        *,
        resolution: float,
        seed: int,
    ) -> npt.NDArray[np.int64]: ...


# method -> (module, function, extra that provides the module's dependency or None)
_BACKENDS: Final[dict[str, tuple[str, str, str | None]]] = {
    "leiden-cpm": ("graph.detection.leiden", "leiden_cpm_partition", None),
    "leiden-modularity": ("graph.detection.leiden", "leiden_modularity_partition", None),
    "louvain": ("graph.detection.louvain", "louvain_partition", None),
    "plm": ("graph.detection.plm", "plm_partition", "fast"),
}


def partition_for(method: str) -> Partition:
    """The partition function of `method`; MissingExtraError when its backend is not installed."""
    module_name, function, extra = _BACKENDS[method]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if extra is None:
            raise
        raise MissingExtraError(f"detection method {method!r}", extra, error.name or module_name) from error
    partition: Partition = getattr(module, function)
    return partition
