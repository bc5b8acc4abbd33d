"""Address space: the IP ranges of ISPs, carriers, hosts, VPNs, companies and actors, and the IPs in them.

Every range becomes a row of ip_ranges.csv (cidr, asn, organization, network). IPv4 ranges are carved
sequentially from a synthetic block; IPv6 ranges are /48 sites inside the documentation prefix
2001:db8::/32. Hosts inside a range are handed out by an odd-multiplier walk over the range, which
visits every offset once, so two allocations from one range never return the same address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graph.generator.entities import EntityRegistry
from graph.generator.text import ipv4_strings
from graph.generator.wordlists import CARRIERS, HOSTING_PROVIDERS, HOTSPOT_OPERATORS, VPN_PROVIDERS

__all__ = [
    "AddressBlock",
    "Infrastructure",
    "IpPool",
    "IpRange",
    "SharedNetworks",
    "build_shared_networks",
]

Ints = npt.NDArray[np.int64]
_V4_START = 24 << 24  # 24.0.0.0; the synthetic space grows upwards from here
_WALK_STEP = 0x9E3779B1  # odd, so offset = step * i + c (mod 2^k) is a bijection


@dataclass(frozen=True)
class IpRange:
    """One row of ip_ranges.csv."""

    cidr: str
    asn: int
    organization: str
    network: str


@dataclass
class AddressBlock:
    """A range hosts are allocated from."""

    version: int
    base: int  # first address (IPv4) or /48 site number (IPv6)
    bits: int  # host bits: 2^bits offsets
    cursor: int = 0


@dataclass(frozen=True)
class IpPool:
    """IPs shared by strangers (carrier NAT, VPN exits, hotspots): popularity is Zipf-like."""

    ids: Ints
    weights: npt.NDArray[np.float64] = field(repr=False)

    def draw(self, rng: np.random.Generator, count: int) -> Ints:
        """`count` IPs, popular ones more often."""
        return self.ids[rng.choice(len(self.ids), count, p=self.weights)]


class Infrastructure:
    """Allocates ranges and addresses; remembers the ranges for ip_ranges.csv."""

    def __init__(self, rng: np.random.Generator, registry: EntityRegistry) -> None:
        self._rng = rng
        self._registry = registry
        self._next_v4 = _V4_START
        self._next_site = 0x1000
        self._next_asn = 64_600 + int(rng.integers(0, 200)) * 10
        self.ranges: list[IpRange] = []

    @property
    def rng(self) -> np.random.Generator:
        """The run's random generator (shared, so draws stay in one deterministic sequence)."""
        return self._rng

    def asn(self) -> int:
        """A fresh autonomous system number."""
        self._next_asn += 1 + int(self._rng.integers(0, 40))
        return self._next_asn

    def v4_block(self, organization: str, network: str, asn: int, hosts: int) -> AddressBlock:
        """A new IPv4 range with room for `hosts` addresses (at least a /28)."""
        bits = max(4, int(np.ceil(np.log2(max(hosts, 1) * 2 + 2))))
        size = 1 << bits
        base = -(-self._next_v4 // size) * size  # aligned, as a CIDR block must be
        self._next_v4 = base + size
        text = ipv4_strings(np.array([base], dtype=np.int64))[0].as_py()
        self.ranges.append(IpRange(f"{text}/{32 - bits}", asn, organization, network))
        return AddressBlock(4, base, bits)

    def v6_block(self, organization: str, network: str, asn: int) -> AddressBlock:
        """A new IPv6 /48 site; hosts get their own /64 inside it."""
        site = self._next_site
        self._next_site += 1 + int(self._rng.integers(0, 3))
        self.ranges.append(IpRange(f"2001:db8:{site:x}::/48", asn, organization, network))
        return AddressBlock(6, site, 16)

    def addresses(self, block: AddressBlock, count: int) -> Ints:
        """`count` new, distinct addresses from `block`, registered as IP identifiers."""
        offsets = self._walk(block, count)
        if block.version == 4:
            text = ipv4_strings(block.base + offsets)
        else:
            iid = self._rng.integers(1, 1 << 16, count)
            site = f"2001:db8:{block.base:x}"
            text = pa.array([f"{site}:{s:x}::{i:x}" for s, i in zip(offsets, iid, strict=True)])
        upper = pa.array([t.upper() for t in text.to_pylist()]) if block.version == 6 else text
        return self._registry.add("ip", [text, upper])

    def pool(self, block: AddressBlock, count: int, skew: float) -> IpPool:
        """`count` addresses from `block` whose popularity falls off as rank^-skew."""
        ids = self.addresses(block, count)
        weights = 1.0 / (np.arange(count) + 3.0) ** skew
        return IpPool(ids, weights / weights.sum())

    @staticmethod
    def _walk(block: AddressBlock, count: int) -> Ints:
        size = 1 << block.bits
        # Offset 0 (network address / zero subnet, which would print non-canonically) and the
        # last offset are never handed out; two spare candidates cover skipping them.
        steps = np.arange(block.cursor, block.cursor + count + 2, dtype=np.int64)
        candidates = (steps * _WALK_STEP + 12_345) % size
        usable = np.flatnonzero((candidates != 0) & (candidates != size - 1))[:count]
        if len(usable) < count or block.cursor + count + 2 > size:
            raise ValueError("address block exhausted")
        block.cursor += int(usable[-1]) + 1 if count else 0
        return candidates[usable]


@dataclass(frozen=True)
class SharedNetworks:
    """Addresses that strangers share, and the hosting space rings rent."""

    mobile: IpPool  # carrier-grade NAT exits
    mobile_country: Ints  # country index per mobile exit, aligned with mobile.ids
    vpn: IpPool
    tor: IpPool
    hotspots: IpPool  # hotel and airport Wi-Fi
    hosting: tuple[tuple[str, AddressBlock, AddressBlock], ...]  # provider, IPv4 block, IPv6 site


def build_shared_networks(infra: Infrastructure, accounts: int, countries: tuple[str, ...]) -> SharedNetworks:
    """Carriers, VPN and Tor exits, hotspots and hosting providers sized for `accounts` accounts.

    A few thousand carrier NAT addresses at a million accounts, so each is shared by hundreds to
    thousands of accounts; a VPN exit by hundreds.
    """
    rng = infra.rng
    mobile_total = max(len(CARRIERS), accounts // 400)
    ids: list[Ints] = []
    country: list[Ints] = []
    per_carrier = np.bincount(rng.integers(0, len(CARRIERS), mobile_total), minlength=len(CARRIERS)) + 1
    for (code, name), count in zip(CARRIERS, per_carrier, strict=True):
        block = infra.v4_block(name, "mobile", infra.asn(), int(count))
        ids.append(infra.addresses(block, int(count)))
        country.append(np.full(int(count), countries.index(code), dtype=np.int64))
    mobile_ids = np.concatenate(ids)
    order = rng.permutation(len(mobile_ids))  # popularity must not follow carrier order
    weights = 1.0 / (np.arange(len(mobile_ids)) + 5.0) ** 0.7
    mobile = IpPool(mobile_ids[order], weights / weights.sum())
    return SharedNetworks(
        mobile=mobile,
        mobile_country=np.concatenate(country)[order],
        vpn=_provider_pool(infra, VPN_PROVIDERS, "vpn", max(3, accounts // 2_000), 0.6),
        tor=_provider_pool(infra, ("Tor exit relays",), "tor", max(2, accounts // 20_000), 0.3),
        hotspots=_hotspot_pool(infra, HOTSPOT_OPERATORS, max(4, accounts // 500)),
        hosting=tuple(
            (
                name,
                infra.v4_block(name, "hosting", asn := infra.asn(), 20_000),
                infra.v6_block(name, "hosting", asn),
            )
            for name in HOSTING_PROVIDERS
        ),
    )


def _provider_pool(
    infra: Infrastructure, providers: tuple[str, ...], network: str, total: int, skew: float
) -> IpPool:
    per = max(1, -(-total // len(providers)))
    pools = [infra.pool(infra.v4_block(p, network, infra.asn(), per), per, 0.0) for p in providers]
    ids = np.concatenate([p.ids for p in pools])
    ids = ids[infra.rng.permutation(len(ids))]
    weights = 1.0 / (np.arange(len(ids)) + 2.0) ** skew
    return IpPool(ids, weights / weights.sum())


def _hotspot_pool(infra: Infrastructure, operators: tuple[tuple[str, str], ...], total: int) -> IpPool:
    per = max(1, -(-total // len(operators)))
    ids = np.concatenate(
        [infra.addresses(infra.v4_block(name, net, infra.asn(), per), per) for name, net in operators]
    )
    ids = ids[infra.rng.permutation(len(ids))]
    weights = 1.0 / (np.arange(len(ids)) + 3.0) ** 0.8
    return IpPool(ids, weights / weights.sum())
