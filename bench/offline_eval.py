"""Offline quality and speed of projection + detection on generated populations (no database).

    python bench/offline_eval.py --accounts 20000 100000 --seeds 1 2 3
    python bench/offline_eval.py --bundle DIR            # an existing bundle with truth.csv

Reads a bundle directly (pyarrow.csv), builds the Incidence the Neo4j reader would build, projects,
detects with every method and prints: method, resolution, time, ring F1, ARI, NMI, contamination and
the false-positive rate per benign cohort. ``--grid`` sweeps the CPM resolution and ``min_weight``.
"""

from __future__ import annotations

import argparse
import ipaddress
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from graph.detection import METHODS, detect_rings
from graph.detection.louvain import louvain_partition
from graph.evaluation.rings import RingEvaluation, evaluate_rings
from graph.projection import KIND_ORDER, Incidence, ProjectionParams, project
from graph.vocabulary import NETWORK_CLASSES

DEFAULT_RESOLUTION = {"leiden-cpm": 0.05, "leiden-modularity": 1.0, "louvain": 1.0, "plm": 1.0}


def _read(path: Path) -> pa.Table:
    for candidate in (path, path.with_suffix(path.suffix + ".gz")):
        if candidate.exists():
            opts = pacsv.ConvertOptions(strings_can_be_null=False, auto_dict_encode=False)
            return pacsv.read_csv(candidate, convert_options=opts)
    raise FileNotFoundError(path)


def _epoch(col: pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """Epoch seconds from a timestamp, numeric or ISO-string column; NaN where missing."""
    if pa.types.is_timestamp(col.type):
        secs = pc.divide(pc.cast(col.cast(pa.timestamp("us", tz="UTC")), pa.int64()), 1_000_000.0)
        return np.asarray(secs.to_numpy(zero_copy_only=False), np.float64)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return np.asarray(col.to_numpy(zero_copy_only=False), np.float64)
    out = np.full(len(col), np.nan)
    text = np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)
    ok = np.array([bool(t) for t in text])
    if ok.any():
        stamps = np.array([t.replace("Z", "+00:00") for t in text[ok]], dtype=object)
        parsed = pc.strptime(pa.array(stamps.astype(str)), format="%Y-%m-%dT%H:%M:%S%z", unit="s")
        out[ok] = pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return out


def _ipv4_to_int(values: npt.NDArray[np.str_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Vectorised dotted-quad parse; second array marks values that are IPv4."""
    is_v4 = np.char.count(values, ".") == 3
    ints = np.zeros(values.shape[0], np.int64)
    if is_v4.any():
        parts = pc.list_flatten(pc.split_pattern(pa.array(values[is_v4]), "."))
        octets = pc.cast(parts, pa.int64()).to_numpy().reshape(-1, 4)
        ints[is_v4] = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    return ints, is_v4


def _ip_network(ips: npt.NDArray[np.str_], ranges: pa.Table | None) -> npt.NDArray[np.int8]:
    """Network class per IP by CIDR lookup: sorted range starts + searchsorted (IPv4), ipaddress (IPv6)."""
    unknown = NETWORK_CLASSES.index("unknown")
    out = np.full(ips.shape[0], unknown, np.int8)
    if ranges is None or ips.shape[0] == 0:
        return out
    nets = [ipaddress.ip_network(c, strict=False) for c in ranges.column("cidr").to_pylist()]
    cls = np.array(
        [
            NETWORK_CLASSES.index(n) if n in NETWORK_CLASSES else unknown
            for n in ranges.column("network").to_pylist()
        ],
        np.int8,
    )
    v4 = [
        (int(n.network_address), int(n.broadcast_address), c)
        for n, c in zip(nets, cls, strict=True)
        if n.version == 4
    ]
    ints, is_v4 = _ipv4_to_int(ips)
    if v4:
        v4.sort(key=lambda r: (r[0], -r[1]))
        starts = np.array([r[0] for r in v4], np.int64)
        ends = np.array([r[1] for r in v4], np.int64)
        classes = np.array([r[2] for r in v4], np.int8)
        pos = np.searchsorted(starts, ints, side="right") - 1
        hit = is_v4 & (pos >= 0) & (ints <= ends[np.maximum(pos, 0)])
        out[hit] = classes[pos[hit]]
    v6 = [(n, c) for n, c in zip(nets, cls, strict=True) if n.version == 6]
    if v6:
        for i in np.flatnonzero(~is_v4):
            try:
                addr = ipaddress.ip_address(str(ips[i]))
            except ValueError:
                continue
            for net, c in v6:
                if addr in net:
                    out[i] = c
                    break
    return out


def read_bundle(bundle: Path) -> tuple[Incidence, dict[str, str | None], dict[str, str]]:
    links = _read(bundle / "links.csv")
    accounts = _read(bundle / "accounts.csv")
    kind = np.asarray(links.column("kind").to_numpy(zero_copy_only=False)).astype(str)
    value = np.asarray(links.column("value").to_numpy(zero_copy_only=False)).astype(str)
    acct = np.asarray(links.column("account_id").to_numpy(zero_copy_only=False)).astype(str)
    first = (
        _epoch(links.column("first_seen"))
        if "first_seen" in links.column_names
        else np.full(len(acct), np.nan)
    )
    if "email" in accounts.column_names:
        emails = np.asarray(accounts.column("email").to_numpy(zero_copy_only=False)).astype(str)
        has = emails != ""
        acct = np.r_[
            acct, np.asarray(accounts.column("account_id").to_numpy(zero_copy_only=False)).astype(str)[has]
        ]
        kind = np.r_[kind, np.full(int(has.sum()), "email")]
        value = np.r_[value, emails[has]]
        first = np.r_[first, np.full(int(has.sum()), np.nan)]
    value = np.where(kind == "email", np.char.lower(value), value)
    all_ids = np.asarray(accounts.column("account_id").to_numpy(zero_copy_only=False)).astype(str)
    account_ids, link_account = np.unique(np.r_[all_ids, acct], return_inverse=True)
    link_account = link_account[all_ids.shape[0] :]
    kind_idx = np.array([KIND_ORDER.index(k) for k in KIND_ORDER])  # allow-list
    kind_code = np.full(kind.shape[0], -1, np.int8)
    for i, k in enumerate(KIND_ORDER):
        kind_code[kind == k] = kind_idx[i]
    keep = kind_code >= 0
    composite = np.char.add(np.char.add(kind_code[keep].astype(str), "\x1f"), value[keep])
    keys, link_entity = np.unique(composite, return_inverse=True)
    ent_kind = np.array([int(k.split("\x1f", 1)[0]) for k in keys], np.int8)
    ent_value = np.array([k.split("\x1f", 1)[1] for k in keys], dtype=np.str_)
    ranges = _read(bundle / "ip_ranges.csv") if (bundle / "ip_ranges.csv").exists() else None
    ent_net = np.full(keys.shape[0], NETWORK_CLASSES.index("unknown"), np.int8)
    is_ip = ent_kind == KIND_ORDER.index("ip")
    ent_net[is_ip] = _ip_network(ent_value[is_ip], ranges)
    n = int(keep.sum())
    inc = Incidence(
        account_ids=account_ids,
        entity_keys=ent_value,
        entity_kind=ent_kind,
        entity_network=ent_net,
        link_account=link_account[keep].astype(np.int32),
        link_entity=link_entity.astype(np.int32),
        link_first_seen=first[keep],
        link_last_seen=np.full(n, np.nan),
        link_count=np.ones(n, np.int32),
    )
    truth = _read(bundle / "truth.csv")
    ids = truth.column("account_id").to_pylist()
    rings = truth.column("ring_id").to_pylist()
    cohorts = truth.column("cohort").to_pylist()
    truth_ring = {str(a): (str(r) if r not in (None, "") else None) for a, r in zip(ids, rings, strict=True)}
    truth_cohort = {str(a): str(c) for a, c in zip(ids, cohorts, strict=True)}
    return inc, truth_ring, truth_cohort


def evaluate(
    inc: Incidence,
    truth_ring: dict[str, str | None],
    truth_cohort: dict[str, str],
    params: ProjectionParams,
    method: str,
    resolution: float,
    min_size: int,
    seed: int,
) -> tuple[float, float, int, RingEvaluation]:
    t0 = time.perf_counter()
    graph = project(inc, params)
    t1 = time.perf_counter()
    rings = detect_rings(graph, method=method, resolution=resolution, min_size=min_size, seed=seed)
    t2 = time.perf_counter()
    detected = [inc.account_ids[r].tolist() for r in rings]
    return t1 - t0, t2 - t1, graph.n_edges, evaluate_rings(detected, truth_ring, truth_cohort)


def _row(
    label: str, size: int, seed: int, t_proj: float, t_det: float, edges: int, ev: RingEvaluation
) -> str:
    fps = " ".join(f"{c}={v:.3f}" for c, v in sorted(ev.cohort_fp_rate.items()) if v > 0.0005)
    return (
        f"{size:>7} {seed:>4} {label:<36} {edges:>8} {t_proj:6.2f} {t_det:7.3f} {ev.ring_f1:6.3f} "
        f"{ev.ring_precision:5.3f} {ev.ring_recall:5.3f} {ev.ari:6.3f} {ev.nmi:6.3f} "
        f"{ev.contamination:6.4f}  {fps}"
    )


HEADER = (
    f"{'acc':>7} {'seed':>4} {'method (resolution)':<36} {'edges':>8} {'proj_s':>6} {'det_s':>7} "
    f"{'ringF1':>6} "
    f"{'P':>5} {'R':>5} {'ARI':>6} {'NMI':>6} {'contam':>6}  FP per cohort (>0)"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, action="append", default=[])
    ap.add_argument("--accounts", type=int, nargs="*", default=[20_000])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1])
    ap.add_argument("--methods", nargs="*", default=sorted(METHODS))
    ap.add_argument("--min-size", type=int, default=3)
    ap.add_argument("--min-weight", type=float, nargs="*", default=[ProjectionParams().min_weight])
    ap.add_argument("--cpm", type=float, nargs="*", default=[DEFAULT_RESOLUTION["leiden-cpm"]])
    ap.add_argument(
        "--time-window-days", type=float, nargs="*", default=[ProjectionParams().time_window / 86400]
    )
    ap.add_argument(
        "--whole-graph-louvain", action="store_true", help="time python-louvain on the whole graph"
    )
    args = ap.parse_args()

    bundles: list[tuple[int, int, Path]] = [(0, 0, b) for b in args.bundle]
    tmp = tempfile.TemporaryDirectory()
    if not bundles:
        from graph.generator import generate_population

        for size in args.accounts:
            for seed in args.seeds:
                out = Path(tmp.name) / f"pop-{size}-{seed}"
                generate_population(out, accounts=size, seed=seed)
                bundles.append((size, seed, out))
    print(HEADER)
    for size, seed, bundle in bundles:
        t0 = time.perf_counter()
        inc, truth_ring, truth_cohort = read_bundle(bundle)
        print(
            f"# {bundle}: {inc.account_ids.shape[0]} accounts, {inc.link_account.shape[0]} links, "
            f"read {time.perf_counter() - t0:.1f}s"
        )
        for min_weight in args.min_weight:
            for window in args.time_window_days:
                params = replace(ProjectionParams(), min_weight=min_weight, time_window=window * 86400)
                for method in args.methods:
                    resolutions = args.cpm if method == "leiden-cpm" else [DEFAULT_RESOLUTION[method]]
                    for res in resolutions:
                        t_p, t_d, edges, ev = evaluate(
                            inc, truth_ring, truth_cohort, params, method, res, args.min_size, seed
                        )
                        label = f"{method} ({res:g}) mw={min_weight:g} tw={window:g}d"
                        print(
                            _row(label, size or inc.account_ids.shape[0], seed, t_p, t_d, edges, ev),
                            flush=True,
                        )
                if args.whole_graph_louvain:
                    graph = project(inc, params)
                    t0 = time.perf_counter()
                    louvain_partition(
                        graph.n_accounts, graph.src, graph.dst, graph.weight, resolution=1.0, seed=seed
                    )
                    took = time.perf_counter() - t0
                    print(f"# python-louvain on the whole graph (reference speed): {took:.2f}s", flush=True)
    tmp.cleanup()


if __name__ == "__main__":
    main()
