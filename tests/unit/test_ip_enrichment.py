from __future__ import annotations

import ipaddress

import numpy as np

from graph.ingest.ip_enrichment import IPRange, RangeTable


def test_longest_prefix_wins_for_both_families() -> None:
    table = RangeTable([
        IPRange("198.51.100.0/24", 1, "Homenet", "residential"),
        IPRange("198.51.100.16/28", 2, "Nimbus", "hosting"),
        IPRange("0.0.0.0/0", None, None, "unknown"),
        IPRange("2001:db8::/32", 3, "Nimbus", "hosting"),
        IPRange("2001:db8:ff::/48", 4, "Orca", "corporate"),
    ])
    found = table.lookup(["198.51.100.20", "198.51.100.200", "192.0.2.1", "2001:db8:ff::9", "2001:db8:1::1",
                          "2001:db9::1"])
    assert [f.asn if f else "none" for f in found] == [2, 1, None, 4, 3, "none"]


def test_many_ranges_match_a_brute_force_lookup() -> None:
    rng = np.random.default_rng(3)
    ranges = []
    for index in range(3000):
        length = int(rng.integers(12, 29))
        network = ipaddress.ip_network((int(rng.integers(0, 2**32)), length), strict=False)
        ranges.append(IPRange(network.compressed, index, None, "residential"))
    table = RangeTable(ranges)
    probes = [str(ipaddress.IPv4Address(int(v))) for v in rng.integers(0, 2**32, size=500)]
    probes += [str(ipaddress.ip_network(r.cidr).network_address + 1) for r in ranges[:200]]
    parsed = [(ipaddress.ip_network(r.cidr), r) for r in ranges]
    for probe, hit in zip(probes, table.lookup(probes), strict=True):
        address = ipaddress.ip_address(probe)
        holding = [(net.prefixlen, r) for net, r in parsed if address in net]
        expected = max(holding, key=lambda pair: pair[0])[1] if holding else None
        # Equal prefixes are the same network; either entry is a correct answer.
        if expected is None:
            assert hit is None
        else:
            assert hit is not None and ipaddress.ip_network(hit.cidr) == ipaddress.ip_network(expected.cidr)
