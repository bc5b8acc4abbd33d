"""IPv4 range -> ASN -> organisation, plus cloud/VPN/relay ranges (``ip_asn``) -> ``ip_ranges.csv``.

Sources:

- ``asn-ipv4.csv.gz`` -- npm ``@ip-location-db/asn`` 2.3.2026061719 by sapics
  (github.com/sapics/ip-location-db), built from RouteViews, the NRO / five RIRs and DB-IP's
  "IP to ASN Lite". Licence: **CC BY 4.0, attribution required** (DB-IP asks for a link to
  https://db-ip.com where results are shown in a web UI). No header; columns
  ``ip_range_start, ip_range_end, autonomous_system_number, autonomous_system_organization``
  with inclusive bounds.
- ``cloud_ranges/cloud_provider_ipv4_ranges.csv`` (``provider,cidr``) -- GitHub
  ``lord-alfred/ipranges`` (``<provider>/ipv4_merged.txt``). Licence: CC0-1.0.

Output: ``ip_ranges.csv`` (``cidr, asn, organization, network``) and ``ATTRIBUTION.txt`` beside it,
which carries the CC BY 4.0 notice and the list of modifications and must travel with the file. No
accounts, links or truth: there are no labels.

Mapping: every inclusive start-end range is split into the minimal list of CIDR blocks (vectorised:
one block per range per pass, at most 32 passes), each with the range's ASN and organisation and
network class ``unknown`` -- an AS number alone does not say residential vs mobile vs hosting.
An ASN block lying wholly inside a cloud range takes that range's class (else a more specific
ASN block would hide the provider's class from the longest-prefix match). Every cloud CIDR is
emitted too, with the ASN/organisation of the ASN range holding its first address
(the provider's name if none) and the class from its provider: ``protonvpn`` -> ``vpn``,
``apple-proxy`` (iCloud Private Relay egress, shared by strangers like a VPN exit) -> ``vpn``, a
provider named ``tor`` -> ``tor``, everything else (clouds, CDNs, crawlers, monitors) -> ``hosting``.
A block that is both an ASN block and a cloud block is written once, as the cloud row; the
loader's longest-prefix match lets a cloud /24 inside an ASN /16 win for its addresses.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from graph.datasets._bundle import Adapter, ImportSummary, find_source_file, open_text

__all__ = ["ADAPTER", "IP_RANGE_COLUMNS", "import_ip_asn", "network_class", "range_to_cidrs"]

IP_RANGE_COLUMNS: Final[tuple[str, ...]] = ("cidr", "asn", "organization", "network")
_VPN_PROVIDERS: Final = frozenset({"protonvpn", "apple-proxy", "mullvad", "nordvpn", "expressvpn"})
_CLASS_RANK: Final = {"tor": 0, "vpn": 1, "hosting": 2}

ATTRIBUTION: Final = """\
ip_ranges.csv -- attribution and licences
=========================================

IP address range -> AS number -> AS organisation
  Data: "asn-ipv4" of @ip-location-db/asn (npm, version 2.3.2026061719) by sapics,
        https://github.com/sapics/ip-location-db
  Built from: RouteViews (http://www.routeviews.org), the NRO and the five Regional Internet
        Registries, and the DB-IP "IP to ASN Lite" database (https://db-ip.com).
  Licence: Creative Commons Attribution 4.0 International (CC BY 4.0),
        https://creativecommons.org/licenses/by/4.0/
  IP to ASN data by DB-IP: <a href='https://db-ip.com'>IP Geolocation by DB-IP</a>
  (a web page that displays or uses these results must carry this link back to DB-IP.com).

Cloud, VPN and relay ranges
  Data: lord-alfred/ipranges, https://github.com/lord-alfred/ipranges (<provider>/ipv4_merged.txt)
  Licence: CC0 1.0 Universal (public domain dedication)

Modifications made by ringtrace (graph/datasets/ip_asn.py)
  - inclusive start-end ranges were split into CIDR blocks;
  - a network class was added per block: "hosting" / "vpn" / "tor" for the cloud, VPN and relay
    ranges by provider, "unknown" otherwise;
  - cloud ranges were given the AS number and organisation of the ASN range holding their first
    address; a block present in both sources is listed once.
The data is provided "as is", without warranty; the upstream package notes known errors.
"""


def network_class(provider: str) -> str:
    """Network class of a provider list from lord-alfred/ipranges."""
    name = provider.strip().lower()
    if name == "tor" or name.startswith("tor-"):
        return "tor"
    if name in _VPN_PROVIDERS or "vpn" in name:
        return "vpn"
    return "hosting"


def _ipv4_int(text: str) -> int:
    a, b, c, d = text.split(".")
    value = (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    if not all(0 <= int(x) <= 255 for x in (a, b, c, d)):
        raise ValueError(text)
    return value


def _dotted(values: npt.NDArray[np.int64]) -> list[str]:
    a, b, c, d = (values >> 24) & 255, (values >> 16) & 255, (values >> 8) & 255, values & 255
    return [f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), d.tolist(), strict=True)]


def range_to_cidrs(
    starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Minimal CIDR cover of inclusive IPv4 ranges: (range index, network int, prefix length) arrays.

    Each pass takes from every unfinished range the largest block aligned at its current start that
    fits, so a range costs as many passes as it has blocks (<= 62) and each pass is one numpy step.
    """
    starts = np.asarray(starts, np.int64)
    ends = np.asarray(ends, np.int64)
    if np.any(ends < starts):
        raise ValueError("a range ends before it starts")
    index = np.arange(starts.shape[0], dtype=np.int64)
    current = starts.copy()
    out_index: list[npt.NDArray[np.int64]] = []
    out_net: list[npt.NDArray[np.int64]] = []
    out_len: list[npt.NDArray[np.int64]] = []
    pending = np.ones(starts.shape[0], bool)
    while pending.any():
        idx = index[pending]
        start = current[pending]
        span = ends[pending] - start + 1
        align = start & -start
        align[start == 0] = 1 << 32
        fit = np.left_shift(np.int64(1), np.floor(np.log2(span.astype(np.float64))).astype(np.int64))
        fit = np.where(fit > span, fit >> 1, fit)
        fit = np.where(fit * 2 <= span, fit * 2, fit)
        size = np.minimum(align, fit)
        out_index.append(idx)
        out_net.append(start)
        out_len.append(32 - np.log2(size.astype(np.float64)).astype(np.int64))
        current[pending] = start + size
        pending = current <= ends
    if not out_index:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    ri, net, length = np.concatenate(out_index), np.concatenate(out_net), np.concatenate(out_len)
    order = np.lexsort((length, net))
    return ri[order], net[order], length[order]


def _inherited_class(
    nets: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], cloud: dict[tuple[int, int], tuple[str, str]]
) -> list[str]:
    """Per ASN block: the class of a cloud range wholly containing it (tor > vpn > hosting), else unknown.

    Without this an ASN block more specific than a provider's range (an Amazon /24 inside Amazon's
    /20) would win the loader's longest-prefix match and hide the provider's class.
    """
    result = np.full(nets.shape[0], "unknown", dtype=object)
    ends = nets + (np.int64(1) << (32 - lengths)) - 1
    for cls in sorted(_CLASS_RANK, key=_CLASS_RANK.__getitem__, reverse=True):  # weakest first
        spans = sorted((n, n + (1 << (32 - ln)) - 1) for (n, ln), (c, _p) in cloud.items() if c == cls)
        if not spans:
            continue
        merged: list[list[int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        lo_arr = np.asarray([m[0] for m in merged], np.int64)
        hi_arr = np.asarray([m[1] for m in merged], np.int64)
        pos = np.searchsorted(lo_arr, nets, side="right") - 1
        inside = (pos >= 0) & (ends <= hi_arr[np.maximum(pos, 0)])
        result[inside] = cls  # stronger classes, applied later, overwrite weaker ones
    return [str(c) for c in result.tolist()]


def import_ip_asn(source: Path, out: Path) -> ImportSummary:
    """Write ``ip_ranges.csv`` + ``ATTRIBUTION.txt`` for the ranges in `source` into `out`."""
    starts: list[int] = []
    ends: list[int] = []
    asns: list[str] = []
    orgs: list[str] = []
    skipped: dict[str, int] = {}
    with open_text(find_source_file(source, "asn-ipv4.csv")) as handle:
        for row in csv.reader(handle):
            if len(row) < 4:
                skipped["short asn row"] = skipped.get("short asn row", 0) + 1
                continue
            try:
                starts.append(_ipv4_int(row[0]))
                ends.append(_ipv4_int(row[1]))
            except ValueError:
                skipped["non-IPv4 asn row"] = skipped.get("non-IPv4 asn row", 0) + 1
                del starts[len(ends) :]
                continue
            asns.append(row[2].strip())
            orgs.append(row[3].strip())
    start_arr = np.asarray(starts, np.int64)
    end_arr = np.asarray(ends, np.int64)
    order = np.argsort(start_arr, kind="stable")

    cloud: dict[tuple[int, int], tuple[str, str]] = {}  # (network, length) -> (class, provider)
    cloud_path = source / "cloud_ranges" / "cloud_provider_ipv4_ranges.csv"
    if cloud_path.exists() or cloud_path.with_suffix(".csv.gz").exists():
        with open_text(find_source_file(source / "cloud_ranges", "cloud_provider_ipv4_ranges.csv")) as handle:
            for entry_row in csv.DictReader(handle):
                provider = (entry_row.get("provider") or "").strip()
                cidr = (entry_row.get("cidr") or "").strip()
                try:
                    address, length_text = cidr.split("/")
                    length = int(length_text)
                    network = _ipv4_int(address) & (((1 << 32) - 1) ^ ((1 << (32 - length)) - 1))
                except ValueError:
                    skipped["malformed cloud cidr"] = skipped.get("malformed cloud cidr", 0) + 1
                    continue
                entry = (network_class(provider), provider)
                key = (network, length)
                if key not in cloud or (_CLASS_RANK[entry[0]], entry[1]) < (
                    _CLASS_RANK[cloud[key][0]],
                    cloud[key][1],
                ):
                    cloud[key] = entry

    range_index, nets, lengths = range_to_cidrs(start_arr, end_arr)
    classes = _inherited_class(nets, lengths, cloud)
    rows: list[tuple[int, int, str, str, str, str]] = []
    for ri, net, length, text, cls in zip(
        range_index.tolist(), nets.tolist(), lengths.tolist(), _dotted(nets), classes, strict=True
    ):
        if (net, length) not in cloud:
            rows.append((net, length, f"{text}/{length}", asns[ri], orgs[ri], cls))
    sorted_starts = start_arr[order]
    for (net, length), (cls, provider) in cloud.items():
        pos = int(np.searchsorted(sorted_starts, net, side="right")) - 1
        asn, org = "", provider
        if pos >= 0 and net <= end_arr[order[pos]]:
            asn, org = asns[int(order[pos])], orgs[int(order[pos])]
        text = _dotted(np.asarray([net], np.int64))[0]
        rows.append((net, length, f"{text}/{length}", asn, org, cls))
    rows.sort(key=lambda r: (r[0], r[1]))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "ip_ranges.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(IP_RANGE_COLUMNS)
        writer.writerows(r[2:] for r in rows)
    notice = ATTRIBUTION
    for name in ("DBIP-LICENSE", "ROUTEVIEWS-LICENSE", "NRO_LICENSE", "MODIFICATIONS"):
        path = source / name
        if path.exists():
            notice += f"\n--- {name} (as shipped with the source) ---\n{path.read_text(encoding='utf-8')}"
    (out / "ATTRIBUTION.txt").write_text(notice, encoding="utf-8")
    return ImportSummary(
        dataset="ip_asn",
        out=out,
        files=("ip_ranges.csv", "ATTRIBUTION.txt"),
        ip_ranges=len(rows),
        skipped=dict(sorted(skipped.items())),
    )


ADAPTER = Adapter(
    name="ip_asn",
    source="npm @ip-location-db/asn (sapics/ip-location-db) asn-ipv4.csv + lord-alfred/ipranges",
    licence="CC BY 4.0 (RouteViews, NRO/RIRs, DB-IP; attribution required) + CC0-1.0 (cloud ranges)",
    run=import_ip_asn,
)
