"""IP enrichment: the most specific CIDR range holding an address (longest-prefix match).

Ranges are grouped by prefix length; an address is masked to each length present, longest first,
and looked up in a sorted array of that length's networks. With 400k ranges this is a few dozen
binary searches per address, vectorised over a whole batch.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["IPRange", "RangeCache", "RangeTable"]


@dataclass(frozen=True)
class IPRange:
    cidr: str
    asn: int | None
    organization: str | None
    network: str


class _Family:
    """Ranges of one address family: per prefix length, sorted network integers and range indices."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.by_length: list[tuple[int, npt.NDArray[np.object_], npt.NDArray[np.int64]]] = []

    def build(self, entries: list[tuple[int, int, int]]) -> None:
        grouped: dict[int, list[tuple[int, int]]] = {}
        for network, length, index in entries:
            grouped.setdefault(length, []).append((network, index))
        self.by_length = []
        for length in sorted(grouped, reverse=True):
            pairs = sorted(grouped[length])
            # Python ints keep IPv6 exact; numpy searchsorted on object arrays compares them correctly.
            networks = np.array([p[0] for p in pairs], dtype=object)
            indices = np.array([p[1] for p in pairs], dtype=np.int64)
            self.by_length.append((length, networks, indices))

    def lookup(self, addresses: Sequence[int]) -> npt.NDArray[np.int64]:
        result = np.full(len(addresses), -1, dtype=np.int64)
        if not addresses or not self.by_length:
            return result
        values = np.array(addresses, dtype=object)
        for length, networks, indices in self.by_length:
            pending = result < 0
            if not pending.any():
                break
            mask = ((1 << self.bits) - 1) ^ ((1 << (self.bits - length)) - 1)
            masked = values[pending] & mask
            positions = np.searchsorted(networks, masked)
            positions = np.minimum(positions, len(networks) - 1)
            hit = networks[positions] == masked
            target = np.flatnonzero(pending)
            result[target[hit]] = indices[positions[hit]]
        return result


class RangeTable:
    """Longest-prefix lookup of IP addresses in a set of ranges."""

    def __init__(self, ranges: Iterable[IPRange]) -> None:
        self.ranges = list(ranges)
        v4: list[tuple[int, int, int]] = []
        v6: list[tuple[int, int, int]] = []
        for index, entry in enumerate(self.ranges):
            network = ipaddress.ip_network(entry.cidr, strict=False)
            target = v4 if network.version == 4 else v6
            target.append((int(network.network_address), network.prefixlen, index))
        self._v4 = _Family(32)
        self._v4.build(v4)
        self._v6 = _Family(128)
        self._v6.build(v6)

    def __len__(self) -> int:
        return len(self.ranges)

    def lookup(self, addresses: Sequence[str]) -> list[IPRange | None]:
        """The most specific range for each canonical address (None where no range holds it)."""
        v4_positions: list[int] = []
        v4_values: list[int] = []
        v6_positions: list[int] = []
        v6_values: list[int] = []
        for position, text in enumerate(addresses):
            address = ipaddress.ip_address(text)
            if address.version == 4:
                v4_positions.append(position)
                v4_values.append(int(address))
            else:
                v6_positions.append(position)
                v6_values.append(int(address))
        found: list[IPRange | None] = [None] * len(addresses)
        for positions, hits in (
            (v4_positions, self._v4.lookup(v4_values)),
            (v6_positions, self._v6.lookup(v6_values)),
        ):
            for position, hit in zip(positions, hits, strict=True):
                if hit >= 0:
                    found[position] = self.ranges[int(hit)]
        return found


class RangeCache:
    """The range table of one version, built once and shared by a process's requests and loads.

    Building a table reads every range (hundreds of thousands in production); a request should pay
    for that only when the stored ranges changed, which their version says.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._table = RangeTable(())

    def table(self, key: Hashable, fetch: Callable[[], Iterable[IPRange]]) -> RangeTable:
        """The table for `key` (a database and its ranges' version), from `fetch` if not held yet."""
        # One fetch at a time: concurrent requests after a change wait for it rather than repeat it.
        with self._lock:
            if key != self._key:
                self._table = RangeTable(fetch())
                self._key = key
            return self._table
