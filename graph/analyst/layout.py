"""Where the dossier's evidence drawing puts each node: members gathered around what they share.

The drawing is bipartite in the main: accounts on one side, the devices, cards, addresses, templates
and organisations they link to on the other. Drawn on one circle, a ring of 60 members is a hairball;
drawn here, it is groups:

1. **Groups.** Entities are taken most telling first (a device, then a card, a phone, an email, an
   address, a template; among equals the most shared): an entity two or more not yet grouped members
   share becomes the hub of a group of those members.
2. **Placing groups.** Each group is one node of a smaller graph, together with the entities and
   organisations no group is built on and the members no group took; links between groups are the
   members' other links. That graph is laid out force-directed (networkx's ``spring_layout``,
   Fruchterman & Reingold, Software: Practice and Experience 21(11), 1991) from a fixed seed, one
   connected part at a time, then nodes are pushed apart until none overlaps another (labels count).
3. **Inside a group**, the hub sits in the middle and its members on a circle around it, each turned
   towards what else it links to, labels pointing outwards.

Parts are packed in rows, largest first, each turned to lie wider than tall; nodes that link to
nothing else in the drawing line up underneath. Everything is in id order with a fixed seed, so the
same data always gives the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import networkx as nx
import numpy as np

__all__ = ["Placement", "evidence_layout"]

#: Entities that make the tightest groups first: what one person holds before what many pass through.
_HUB_ORDER: Final = ("Device", "PaymentMethod", "Phone", "Email", "IP", "PromptTemplate")
_TEXT: Final = 58.0  # room a label takes beside its node (an account id at the drawing's font size)
_GAP: Final = 10.0  # free space kept between any two nodes (with their labels)
_PART_GAP: Final = 36.0
_MEMBER_SPACING: Final = 24.0  # along a group's circle, between members' centres
_LOOSE_STEP: Final = 150.0


@dataclass(frozen=True)
class Placement:
    """A node's centre and its label: the direction it runs (a unit vector), and whether it is turned
    along that direction (members around a big group) or written level."""

    x: float
    y: float
    dx: float = 1.0
    dy: float = 0.0
    turned: bool = False
    offset: float | None = None  # how far from the centre the label starts; None: just past the circle


@dataclass
class _Group:
    hub: str
    members: list[str]

    @property
    def turned(self) -> bool:
        """Whether members' labels run outwards along the circle's radii (a big group) or level."""
        return len(self.members) > 6

    @property
    def radius(self) -> float:
        # members side by side around the hub; in a big group, room for the hub's label inside
        return max(52.0 if self.turned else 38.0, len(self.members) * _MEMBER_SPACING / (2 * math.pi))


def evidence_layout(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    labels: Mapping[str, str],
    radius: Mapping[str, float],
    *,
    width: float = 1000.0,
    seed: int = 7,
) -> dict[str, Placement]:
    """Positions for `nodes` (ids; `labels` gives each its label: Account, Device, ...) joined by
    `edges`, packed about `width` units across. `radius` is each node's drawn radius. Deterministic
    for the same input, whatever its order."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(set(nodes)))
    graph.add_edges_from(sorted({(min(a, b), max(a, b)) for a, b in edges if a != b and a in graph and b in graph}))
    groups = _groups(graph, labels)
    placed: dict[str, Placement] = {}
    x = y = row_height = 0.0
    for part in _parts(graph, groups, radius, seed, width):
        points = _open(part, graph, groups)
        low_x = min(p.x - _extent(n, radius) for n, p in points.items())
        high_x = max(p.x + _extent(n, radius) for n, p in points.items())
        low_y = min(p.y - _extent(n, radius, across=True) for n, p in points.items())
        high_y = max(p.y + _extent(n, radius, across=True) for n, p in points.items())
        w, h = high_x - low_x, high_y - low_y
        if x > 0 and x + w > width:
            x, y, row_height = 0.0, y + row_height + _PART_GAP, 0.0
        for node, p in points.items():
            placed[node] = Placement(p.x - low_x + x, p.y - low_y + y, p.dx, p.dy, p.turned)
        x, row_height = x + w + _PART_GAP, max(row_height, h)
    loose = sorted(n for n in graph if graph.degree[n] == 0)
    bottom = (max((p.y for p in placed.values()), default=0.0) + 2 * _PART_GAP) if placed else 0.0
    per_row = max(int(width // _LOOSE_STEP), 1)
    for i, node in enumerate(loose):
        row, col = divmod(i, per_row)
        placed[node] = Placement(col * _LOOSE_STEP, bottom + row * 26.0)
    return placed


def _groups(graph: nx.Graph, labels: Mapping[str, str]) -> dict[str, _Group]:
    """Hub id -> its group: entities most telling first, each taking the ungrouped members it links."""
    grouped: set[str] = set()
    groups: dict[str, _Group] = {}
    rank = {label: i for i, label in enumerate(_HUB_ORDER)}
    hubs = sorted((n for n in graph if labels.get(n) in rank),
                  key=lambda n: (rank[labels[n]], -graph.degree[n], n))
    for hub in hubs:
        members = sorted(m for m in graph[hub] if labels.get(m) == "Account" and m not in grouped)
        if len(members) >= 2:
            groups[hub] = _Group(hub, members)
            grouped.update(members)
    return groups


def _extent(node: str, radius: Mapping[str, float], *, across: bool = False) -> float:
    """Half the room a placed node takes with its label: sideways, or up and down (`across`)."""
    size = radius.get(node, 7.0)
    return size + (12.0 if across else _TEXT + 4)


def _parts(graph: nx.Graph, groups: Mapping[str, _Group], radius: Mapping[str, float],
           seed: int, width: float) -> list[dict[str, tuple[float, float]]]:
    """The graph of groups and ungrouped nodes, laid out part by part: node -> centre."""
    owner = {m: hub for hub, group in groups.items() for m in group.members}
    summary = nx.Graph()
    summary.add_nodes_from(n for n in sorted(graph) if n not in owner and graph.degree[n] > 0)
    for a, b in sorted(graph.edges):
        u, v = owner.get(a, a), owner.get(b, b)
        if u != v:
            weight = summary.edges[u, v]["weight"] + 1 if summary.has_edge(u, v) else 1
            summary.add_edge(u, v, weight=weight)
    out = []
    components = sorted((sorted(c) for c in nx.connected_components(summary)), key=lambda c: (-_weight(c, groups), c))
    for component in components:
        sub = summary.subgraph(component)
        half_w = np.array([_half(n, radius, groups)[0] for n in component])
        half_h = np.array([_half(n, radius, groups)[1] for n in component])
        if len(component) == 1:
            points = np.zeros((1, 2))
        else:
            raw = nx.spring_layout(sub, k=1.0 / math.sqrt(len(component)), iterations=300, seed=seed, weight=None)
            points = _level(np.array([raw[n] for n in component], dtype=float))
            lengths = [float(np.hypot(*(raw[a] - raw[b]))) for a, b in sub.edges]
            wanted = [half_w[component.index(a)] + half_w[component.index(b)] for a, b in sub.edges]
            points *= float(np.median(wanted)) / max(float(np.median(lengths)), 1e-6) * 0.6
            _fit(points, half_w, half_h, width)
        out.append({n: (float(px), float(py)) for n, (px, py) in zip(component, points, strict=True)})
    return out


def _half(node: str, radius: Mapping[str, float], groups: Mapping[str, _Group]) -> tuple[float, float]:
    """Half the width and half the height of the room a node needs with its label (a group: its circle
    and its members' labels all round)."""
    if node in groups:
        reach = groups[node].radius + radius.get(node, 7.0) + _TEXT
        return reach, reach
    size = radius.get(node, 7.0)
    return size + _TEXT, size + 9.0


def _level(points: np.ndarray) -> np.ndarray:
    """The points about their centre, turned so their long axis lies across the page."""
    points = points - points.mean(axis=0)
    if points.shape[0] < 3:
        return points
    _, vectors = np.linalg.eigh(np.cov(points.T))
    major = vectors[:, -1]
    major = major if (major[0], major[1]) >= (0.0, 0.0) else -major  # one sign: the same turn every time
    return points @ np.array([[major[0], major[1]], [-major[1], major[0]]]).T


def _weight(component: list[str], groups: Mapping[str, _Group]) -> int:
    return sum(1 + len(groups[n].members) if n in groups else 1 for n in component)


def _fit(points: np.ndarray, half_w: np.ndarray, half_h: np.ndarray, width: float) -> None:
    """Nodes pushed apart, in place, and the part squeezed across until it is about `width` wide: each
    squeeze makes overlaps that the next separation resolves downwards, so a big part grows taller."""
    for _ in range(8):
        _separate(points, half_w, half_h)
        spread = float((points[:, 0] + half_w).max() - (points[:, 0] - half_w).min())
        if spread <= width * 1.02:
            return
        centre = float(points[:, 0].mean())
        points[:, 0] = centre + (points[:, 0] - centre) * (width - 2 * float(half_w.mean())) / max(
            spread - 2 * float(half_w.mean()), 1.0)


def _separate(points: np.ndarray, half_w: np.ndarray, half_h: np.ndarray, rounds: int = 500) -> None:
    """Push apart, in place, every two nodes whose ellipses (`half_w` by `half_h`: a node and its label
    are wide and short) come nearer than `_GAP`."""
    index = np.arange(points.shape[0])
    # Coincident nodes are split along a fixed direction per pair, so the result stays deterministic.
    fallback = np.stack([np.cos(index[:, None] - index[None, :]), np.sin(index[:, None] - index[None, :])], -1)
    for _ in range(rounds):
        delta = points[:, None, :] - points[None, :, :]
        distance = np.hypot(delta[..., 0], delta[..., 1])
        unit = np.where(distance[..., None] > 1e-9, delta / np.maximum(distance, 1e-9)[..., None], fallback)
        # each ellipse's reach along the line between the two centres
        reach = 1.0 / np.sqrt((unit[..., 0] / half_w[:, None]) ** 2 + (unit[..., 1] / half_h[:, None]) ** 2)
        wanted = reach + reach.T + _GAP
        overlap = np.where(distance < wanted, wanted - distance, 0.0)
        np.fill_diagonal(overlap, 0.0)
        if not (overlap > 0.5).any():
            return
        points += (unit * overlap[..., None]).sum(axis=1) * 0.25


def _open(part: Mapping[str, tuple[float, float]], graph: nx.Graph,
          groups: Mapping[str, _Group]) -> dict[str, Placement]:
    """The part with its groups opened up, every label given a direction."""
    names = list(part)
    centre = dict(part)
    placed: dict[str, Placement] = {}
    for node in names:
        if node in groups:
            placed.update(_open_group(groups[node], graph, centre))
    for node in names:
        if node in groups:
            continue
        x, y = centre[node]
        near = [placed[m] if m in placed else Placement(*centre[m]) for m in graph[node]
                if m in placed or m in centre]
        placed[node] = Placement(x, y, *_away(x, y, [(p.x, p.y) for p in near]))
    return placed


def _open_group(group: _Group, graph: nx.Graph, centre: Mapping[str, tuple[float, float]]) -> dict[str, Placement]:
    """The hub at the group's centre, its members around it, each turned towards its other links."""
    hx, hy = centre[group.hub]
    wanted = []
    for i, member in enumerate(group.members):
        others = [centre[m] for m in graph[member] if m != group.hub and m in centre]
        fallback = 2 * math.pi * i / len(group.members)
        if others:
            ox, oy = sum(o[0] for o in others) / len(others), sum(o[1] for o in others) / len(others)
            wanted.append((math.atan2(oy - hy, ox - hx) if (ox, oy) != (hx, hy) else fallback, member))
        else:
            wanted.append((fallback + 100.0, member))  # after those with a direction, in id order
    step = 2 * math.pi / len(group.members)
    ordered = sorted(wanted)
    start = ordered[0][0] if ordered[0][0] < 100.0 else 0.0
    # Turned by at most half a step so that two members leave a gap straight below the hub: its label
    # goes there (inside a big group's circle, under a small group's).
    below = min((math.remainder(math.pi / 2 - (start + (i + 0.5) * step), 2 * math.pi) for i in range(len(ordered))),
                key=lambda d: (round(abs(d), 9), d))
    start += below
    out = {}
    for i, (_, member) in enumerate(ordered):
        angle = start + i * step
        dx, dy = math.cos(angle), math.sin(angle)
        out[member] = Placement(hx + group.radius * dx, hy + group.radius * dy, dx, dy, group.turned)
    out[group.hub] = Placement(hx, hy, 0.0, 1.0, offset=None if group.turned else group.radius + 4)
    return out


def _away(x: float, y: float, near: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """A unit vector from the centre of `near` towards (x, y): where a label has room."""
    if not near:
        return 1.0, 0.0
    mx, my = sum(p[0] for p in near) / len(near), sum(p[1] for p in near) / len(near)
    norm = math.hypot(x - mx, y - my)
    return ((x - mx) / norm, (y - my) / norm) if norm > 1e-9 else (1.0, 0.0)
