"""The address space: ISPs, mobile carriers, hosters, VPNs, Tor, corporate and campus networks.

Every address anything uses is registered once (`Registry`) and referred to by its index; the
ranges an enrichment feed would publish are collected as `ip_ranges.csv` rows. The feed is
imperfect on purpose: a few ISPs are missing (their addresses enrich to nothing) and a few carry
`unknown` as their class. More specific ranges sit inside broader ones (an operator's /27 inside a
hoster's /16, a Tor exit /32 inside a hosting /16), as real feeds do: longest prefix wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .names import Namer
from .world import COUNTRIES

__all__ = ["Block", "Networks", "Registry"]

_RESERVED_FIRST_OCTETS = {0, 10, 100, 127, 169, 172, 192, 198, 203}


class Registry:
    """Every IP address in the population, by index, with the country it sits in."""

    def __init__(self) -> None:
        self._addr: list[np.ndarray] = []
        self._country: list[np.ndarray] = []
        self.size = 0

    def add(self, addresses: np.ndarray, country: int | np.ndarray) -> np.ndarray:
        addresses = np.asarray(addresses, dtype=np.uint32)
        self._addr.append(addresses)
        self._country.append(np.broadcast_to(np.asarray(country, dtype=np.int16), addresses.shape).copy())
        start = self.size
        self.size += addresses.size
        return np.arange(start, self.size, dtype=np.int32)

    def countries(self) -> np.ndarray:
        return np.concatenate(self._country) if self._country else np.empty(0, np.int16)

    def strings(self) -> pa.Array:
        addr = np.concatenate(self._addr).astype(np.int64)
        octets = [pc.cast(pa.array((addr >> shift) & 255), pa.string()) for shift in (24, 16, 8, 0)]
        return pc.binary_join_element_wise(*octets, ".")


def _dotted(value: int) -> str:
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


class Block:
    """A CIDR block handing out distinct host addresses in a scrambled order (never .0 or .255)."""

    def __init__(self, base: int, prefix: int, rng: np.random.Generator) -> None:
        self.base, self.prefix = base, prefix
        self.size = 1 << (32 - prefix)
        self._stride = int(rng.integers(self.size // 4, self.size // 2)) | 1
        self._offset = int(rng.integers(self.size))
        self._drawn = 0

    @property
    def cidr(self) -> str:
        return f"{_dotted(self.base)}/{self.prefix}"

    def remaining(self) -> int:
        return int(self.size * 0.99) - self._drawn

    def take(self, count: int) -> np.ndarray:
        want = int(count * 1.02) + 8
        steps = np.arange(self._drawn, self._drawn + want, dtype=np.int64)
        hosts = (self._offset + self._stride * steps) % self.size
        addresses = self.base + hosts
        keep = np.flatnonzero(((addresses & 255) != 0) & ((addresses & 255) != 255))[:count]
        self._drawn += int(keep[-1]) + 1 if keep.size else 0
        return addresses[keep].astype(np.uint32)


@dataclass
class _Provider:
    name: str
    asn: int
    network: str
    country: int
    blocks: list[Block] = field(default_factory=list)


class Networks:
    """The world's networks and the enrichment feed describing them."""

    def __init__(self, rng: np.random.Generator, namer: Namer, accounts: int) -> None:
        self.rng, self.namer, self.registry = rng, namer, Registry()
        self.ranges: list[tuple[str, int, str, str]] = []
        pairs = np.array([(a, b) for a in range(11, 224) if a not in _RESERVED_FIRST_OCTETS for b in range(256)])
        self._free16 = iter(pairs[rng.permutation(len(pairs))].tolist())
        self._asns = iter((rng.permutation(60_000) + 2_000).tolist())
        self.isps: list[list[_Provider]] = []
        self.carrier_pools: list[list[np.ndarray]] = []
        for index, country in enumerate(COUNTRIES):
            isps = []
            for position in range(1 + int(rng.integers(1, 3))):
                # The feed misses some ISPs entirely and leaves a few unclassified.
                network = "unlisted" if position == 2 and rng.random() < 0.5 else "residential"
                if network == "residential" and rng.random() < 0.08:
                    network = "unknown"
                isps.append(self._provider("isp", network, index))
            self.isps.append(isps)
            pools = []
            for _ in range(1 + int(country.weight > 0.04)):
                carrier = self._provider("carrier", "mobile", index)
                size = max(8, int(accounts * country.weight * 0.3 / 80))
                pools.append(self.registry.add(self._take(carrier, size), index))
            self.carrier_pools.append(pools)
        self.hosters = [self._provider("hosting", "hosting", int(rng.integers(len(COUNTRIES)))) for _ in range(5)]
        self.vpn_pools = []
        self.vpn_names = []
        for _ in range(4):
            vpn = self._provider("vpn", "vpn", int(rng.integers(len(COUNTRIES))))
            self.vpn_names.append(vpn.name)
            exits = max(12, accounts // 1500)
            self.vpn_pools.append(self.registry.add(self._take(vpn, exits), vpn.country))
        tor_hoster = self.hosters[-1]
        tor = self._take(tor_hoster, max(10, accounts // 4000))
        for address in tor.tolist():
            self.ranges.append((f"{_dotted(address)}/32", tor_hoster.asn, "Tor exit relay", "tor"))
        self.tor_pool = self.registry.add(tor, tor_hoster.country)
        self._carvers: dict[tuple[str, int], list[int]] = {}
        # Business lines of ISPs the feed does not list: only the companies' own ranges on them are.
        self._business = [
            _Provider(f"business-isp-{i}", next(self._asns), "unlisted", i) for i in range(len(COUNTRIES))
        ]

    def _provider(self, kind: str, network: str, country: int) -> _Provider:
        name, _ = self.namer.organisation(kind)
        provider = _Provider(name, next(self._asns), network, country)
        self._grow(provider)
        return provider

    def _grow(self, provider: _Provider) -> None:
        a, b = next(self._free16)
        block = Block((a << 24) | (b << 16), 16, self.rng)
        provider.blocks.append(block)
        if provider.network != "unlisted":
            self.ranges.append((block.cidr, provider.asn, provider.name, provider.network))

    def _take(self, provider: _Provider, count: int) -> np.ndarray:
        out = []
        while count > 0:
            block = provider.blocks[-1]
            if block.remaining() < 16:
                self._grow(provider)
                continue
            got = block.take(min(count, block.remaining()))
            out.append(got)
            count -= got.size
        return np.concatenate(out) if out else np.empty(0, np.uint32)

    def residential(self, countries: np.ndarray) -> np.ndarray:
        """A fresh household address in each given country (registry indices, one per entry)."""
        countries = np.asarray(countries)
        out = np.empty(countries.size, dtype=np.int32)
        choice = self.rng.random(countries.size)
        for country in np.unique(countries):
            where = np.flatnonzero(countries == country)
            isps = self.isps[country]
            weights = np.linspace(1.0, 0.4, len(isps))
            pick = np.searchsorted(np.cumsum(weights / weights.sum()), choice[where], side="right")
            for position, isp in enumerate(isps):
                rows = where[np.minimum(pick, len(isps) - 1) == position]
                if rows.size:
                    out[rows] = self.registry.add(self._take(isp, rows.size), country)
        return out

    def hosting(self, count: int, hoster: int | None = None) -> np.ndarray:
        provider = self.hosters[int(self.rng.integers(len(self.hosters))) if hoster is None else hoster]
        return self.registry.add(self._take(provider, count), provider.country)

    def _carve(self, provider: _Provider, prefix: int) -> Block:
        """A fresh aligned sub-range of `prefix` bits from a /16 of `provider` kept for carving only."""
        key = (provider.name, prefix)
        slots = self._carvers.get(key)
        if not slots:
            a, b = next(self._free16)
            base = (a << 24) | (b << 16)
            if provider.network != "unlisted":
                self.ranges.append((f"{_dotted(base)}/16", provider.asn, provider.name, provider.network))
            count = 1 << (prefix - 16)
            slots = [base + int(s) * (1 << (32 - prefix)) for s in self.rng.permutation(count)]
            self._carvers[key] = slots
        return Block(slots.pop(), prefix, self.rng)

    def corporate(self, organisation: str, country: int, prefix: int, used: int) -> np.ndarray:
        """`organisation`'s own network: a listed range of `prefix` bits, `used` addresses of it in use."""
        sub = self._carve(self._business[country], prefix)
        self.ranges.append((sub.cidr, next(self._asns), organisation, "corporate"))
        return self.registry.add(sub.take(min(used, sub.size - 8)), country)

    def operator_hosting(self, organisation: str, used: int) -> np.ndarray:
        """An operator's own servers: a /27 at a hoster, listed under the operator's name."""
        hoster = self.hosters[int(self.rng.integers(len(self.hosters) - 1))]
        sub = self._carve(hoster, 27)
        self.ranges.append((sub.cidr, hoster.asn, organisation, "hosting"))
        return self.registry.add(sub.take(min(used, 24)), hoster.country)

    def rented_servers(self, used: int) -> np.ndarray:
        """Servers an anonymous operator rents: a /27 at a hoster, listed only under the hoster."""
        hoster = self.hosters[int(self.rng.integers(len(self.hosters) - 1))]
        return self.registry.add(self._carve(hoster, 27).take(min(used, 24)), hoster.country)

    def range_rows(self) -> list[tuple[str, str, str, str]]:
        return [(cidr, str(asn), org, network) for cidr, asn, org, network in self.ranges]
