"""Where the dossier's evidence drawing puts each node: members gathered around what they share.

The drawing is bipartite in the main: accounts on one side, the devices, cards, addresses, templates
and organisations they link to on the other. Drawn on one circle, a ring of 60 members is a hairball;
drawn here, it is groups:

1. **Groups.** Entities are taken most telling first (a device, then a card, a phone, an email, an
   address, a template; among equals the most shared): an entity that two or more members not yet in
   a group link to becomes the hub of a group of those members.
2. **Placing.** Each group is one node of a smaller graph, together with the entities and
   organisations no group is built on and the members no group took; the members' other links join
   them. That graph is laid out force-directed (networkx's ``spring_layout``, Fruchterman & Reingold,
   Software: Practice and Experience 21(11), 1991) from a fixed seed, one connected part at a time;
   then nodes are pushed apart until none, label included, overlaps another, and a part wider than the
   page is squeezed across and pushed apart again, so it grows downwards.
3. **Inside a group** the hub sits in the middle. A small group is a fan over its hub, members left to
   right as their other links lie; a big one a full circle round it, each member turned towards its
   other links and labelled along its radius.

Parts are packed in rows, largest first; nodes that link to nothing else in the drawing line up
underneath. Nodes are taken in id order from a fixed seed, so the same data gives the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

import networkx as nx
import numpy as np

__all__ = ["Placement", "Shape", "evidence_layout"]

#: Entities that make the tightest groups first: what one person holds before what many pass through.
_HUB_ORDER: Final = ("Device", "PaymentMethod", "Phone", "Email", "IP", "PromptTemplate")
_LINE: Final = 12.0  # a line of label text, top to bottom
_GAP: Final = 8.0  # free space kept between any two nodes' rooms
_PART_GAP: Final = 36.0
_MEMBER_SPACING: Final = 26.0  # along a group's circle, between members' centres
_FAN_SPACING: Final = 30.0  # along a fan's arc: its members' labels are level, so they need more
_BIG_GROUP: Final = 6  # a group of more members is a circle with turned labels, not a fan
_LOOSE_STEP: Final = 150.0


@dataclass(frozen=True)
class Shape:
    """What the layout needs to know of a node: its label (Account, Device, ...), its circle's radius
    and how long its text is, in drawing units."""

    label: str
    radius: float
    text: float


@dataclass(frozen=True)
class Placement:
    """A node's centre and its label: the direction it runs (a unit vector), whether it is turned along
    that direction (members round a big group) or written level, and how far from the centre it
    starts (None: just past the circle)."""

    x: float
    y: float
    dx: float = 1.0
    dy: float = 0.0
    turned: bool = False
    offset: float | None = None

    def anchor(self, radius: float) -> tuple[float, float, str]:
        """Where the label's text starts, and its SVG text-anchor."""
        at = radius + 3 if self.offset is None else self.offset
        x, y = self.x + at * self.dx, self.y + at * self.dy
        if self.turned:
            return x, y, "start" if self.dx >= 0 else "end"
        if self.dx > 0.35:
            return x, y, "start"
        if self.dx < -0.35:
            return x, y, "end"
        return x, y, "middle"

    def box(self, radius: float, text: float) -> tuple[float, float, float, float]:
        """Roughly where the circle and the label lie: (left, top, right, bottom)."""
        x0, y0, x1, y1 = self.x - radius, self.y - radius, self.x + radius, self.y + radius
        tx, ty, anchor = self.anchor(radius)
        if self.turned:
            ex, ey = tx + text * self.dx, ty + text * self.dy
            return min(x0, tx, ex) - 4, min(y0, ty, ey) - 4, max(x1, tx, ex) + 4, max(y1, ty, ey) + 4
        left = {"start": tx, "end": tx - text, "middle": tx - text / 2}[anchor]
        top = ty - _LINE if anchor == "middle" and self.dy < 0 else ty - _LINE / 2 if anchor != "middle" else ty
        return min(x0, left), min(y0, top), max(x1, left + text), max(y1, top + _LINE)


@dataclass(frozen=True)
class _Group:
    hub: str
    members: tuple[str, ...]
    member_radius: float
    member_text: float

    @property
    def turned(self) -> bool:
        return len(self.members) > _BIG_GROUP

    @property
    def radius(self) -> float:
        """Of the circle (or fan) the members sit on: side by side, and in a circle room for the hub's label."""
        if self.turned:
            return max(58.0, len(self.members) * _MEMBER_SPACING / (2 * math.pi))
        return max(34.0, len(self.members) * _FAN_SPACING / math.pi)

    def room(self, hub: Shape) -> tuple[float, float]:
        """Half the width and half the height the group needs round its hub, labels included."""
        reach = self.radius + self.member_radius + 3 + self.member_text
        if self.turned:
            return reach, reach
        return reach, max(self.radius + self.member_radius + _LINE, hub.radius + 3 + _LINE)


def evidence_layout(
    shapes: Mapping[str, Shape], edges: Sequence[tuple[str, str]], *, width: float = 1000.0, seed: int = 7,
) -> dict[str, Placement]:
    """Positions for the nodes of `shapes` (by id) joined by `edges`, packed about `width` units across.
    Deterministic for the same input, whatever its order."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(shapes))
    graph.add_edges_from(sorted({(min(a, b), max(a, b)) for a, b in edges if a != b and a in graph and b in graph}))
    groups = _groups(graph, shapes)
    placed: dict[str, Placement] = {}
    x = y = row_height = 0.0
    for part in _parts(graph, groups, shapes, seed, width):
        points = _open(part, graph, groups)
        boxes = [p.box(shapes[n].radius, shapes[n].text) for n, p in points.items()]
        low_x, low_y = min(b[0] for b in boxes), min(b[1] for b in boxes)
        w, h = max(b[2] for b in boxes) - low_x, max(b[3] for b in boxes) - low_y
        if x > 0 and x + w > width:
            x, y, row_height = 0.0, y + row_height + _PART_GAP, 0.0
        for node, p in points.items():
            placed[node] = replace(p, x=p.x - low_x + x, y=p.y - low_y + y)
        x, row_height = x + w + _PART_GAP, max(row_height, h)
    loose = sorted(n for n in graph if graph.degree[n] == 0)
    bottom = y + row_height + _PART_GAP + _LINE if placed else 0.0  # room for a caption over them
    per_row = max(int(width // _LOOSE_STEP), 1)
    for i, node in enumerate(loose):
        row, col = divmod(i, per_row)
        placed[node] = Placement(shapes[node].radius + col * _LOOSE_STEP, bottom + row * 26.0)
    return placed


def _groups(graph: nx.Graph, shapes: Mapping[str, Shape]) -> dict[str, _Group]:
    """Hub id -> its group: entities most telling first, each taking the ungrouped members it links."""
    grouped: set[str] = set()
    groups: dict[str, _Group] = {}
    rank = {label: i for i, label in enumerate(_HUB_ORDER)}
    hubs = sorted((n for n in graph if shapes[n].label in rank),
                  key=lambda n: (rank[shapes[n].label], -graph.degree[n], n))
    for hub in hubs:
        members = tuple(sorted(m for m in graph[hub] if shapes[m].label == "Account" and m not in grouped))
        if len(members) >= 2:
            groups[hub] = _Group(hub, members, max(shapes[m].radius for m in members),
                                 max(shapes[m].text for m in members))
            grouped.update(members)
    return groups


def _parts(graph: nx.Graph, groups: Mapping[str, _Group], shapes: Mapping[str, Shape], seed: int,
           width: float) -> list[dict[str, tuple[float, float]]]:
    """The graph of groups and ungrouped nodes, laid out part by part: node -> centre."""
    owner = {m: hub for hub, group in groups.items() for m in group.members}
    summary = nx.Graph()
    summary.add_nodes_from(n for n in sorted(graph) if n not in owner and graph.degree[n] > 0)
    summary.add_edges_from(sorted({(min(u, v), max(u, v)) for u, v in
                                   ((owner.get(a, a), owner.get(b, b)) for a, b in graph.edges) if u != v}))
    out = []
    components = sorted((sorted(c) for c in nx.connected_components(summary)), key=lambda c: (-_weight(c, groups), c))
    for component in components:
        rooms = [groups[n].room(shapes[n]) if n in groups else
                 (shapes[n].radius + 3 + shapes[n].text, shapes[n].radius + _LINE) for n in component]
        half_w, half_h = np.array([r[0] for r in rooms]), np.array([r[1] for r in rooms])
        if len(component) == 1:
            points = np.zeros((1, 2))
        else:
            sub = summary.subgraph(component)
            raw = nx.spring_layout(sub, k=1.0 / math.sqrt(len(component)), iterations=300, seed=seed)
            points = _level(np.array([raw[n] for n in component], dtype=float))
            at = {n: i for i, n in enumerate(component)}
            lengths = [float(np.hypot(*(points[at[a]] - points[at[b]]))) for a, b in sub.edges]
            wanted = [half_w[at[a]] + half_w[at[b]] for a, b in sub.edges]
            points *= 0.6 * float(np.median(wanted)) / max(float(np.median(lengths)), 1e-6)
            _fit(points, half_w, half_h, width)
        out.append({n: (float(px), float(py)) for n, (px, py) in zip(component, points, strict=True)})
    return out


def _weight(component: list[str], groups: Mapping[str, _Group]) -> int:
    return sum(1 + len(groups[n].members) if n in groups else 1 for n in component)


def _level(points: np.ndarray) -> np.ndarray:
    """The points about their centre, turned so their long axis lies across the page."""
    points = points - points.mean(axis=0)
    if points.shape[0] < 3:
        return points
    _, vectors = np.linalg.eigh(np.cov(points.T))
    major = vectors[:, -1]
    major = major if (major[0], major[1]) >= (0.0, 0.0) else -major  # one sign: the same turn every time
    turned: np.ndarray = points @ np.array([[major[0], major[1]], [-major[1], major[0]]]).T
    return turned


def _fit(points: np.ndarray, half_w: np.ndarray, half_h: np.ndarray, width: float) -> None:
    """Nodes pushed apart, in place, and the part squeezed across until it is about `width` wide: each
    squeeze makes overlaps that the next separation resolves, so a big part grows downwards."""
    inner = width - 2 * float(half_w.mean())
    for _ in range(8):
        _separate(points, half_w, half_h)
        spread = float((points[:, 0] + half_w).max() - (points[:, 0] - half_w).min())
        if spread <= width * 1.02:
            return
        centre = float(points[:, 0].mean())
        points[:, 0] = centre + (points[:, 0] - centre) * inner / max(spread - 2 * float(half_w.mean()), 1.0)


def _separate(points: np.ndarray, half_w: np.ndarray, half_h: np.ndarray, rounds: int = 500) -> None:
    """Push apart, in place, every two nodes whose rooms (ellipses `half_w` by `half_h`: a node with its
    label is wide and short) come nearer than `_GAP`."""
    index = np.arange(points.shape[0])
    # Coincident nodes are split along a fixed direction per pair, so the result stays deterministic.
    fallback = np.stack([np.cos(index[:, None] - index[None, :]), np.sin(index[:, None] - index[None, :])], -1)
    for _ in range(rounds):
        delta = points[:, None, :] - points[None, :, :]
        distance = np.hypot(delta[..., 0], delta[..., 1])
        unit = np.where(distance[..., None] > 1e-9, delta / np.maximum(distance, 1e-9)[..., None], fallback)
        # each ellipse's reach along the line between the two centres
        reach = 1.0 / np.sqrt((unit[..., 0] / half_w[:, None]) ** 2 + (unit[..., 1] / half_h[:, None]) ** 2)
        overlap = np.maximum(reach + reach.T + _GAP - distance, 0.0)
        np.fill_diagonal(overlap, 0.0)
        if not (overlap > 0.5).any():
            return
        points += (unit * overlap[..., None]).sum(axis=1) * 0.25


def _open(part: Mapping[str, tuple[float, float]], graph: nx.Graph,
          groups: Mapping[str, _Group]) -> dict[str, Placement]:
    """The part with its groups opened up and every label given a direction."""
    placed: dict[str, Placement] = {}
    for node in part:
        if node in groups:
            placed.update(_open_group(groups[node], graph, part))
    for node, (x, y) in part.items():
        if node not in groups:
            near = [(placed[m].x, placed[m].y) if m in placed else part[m] for m in graph[node]
                    if m in placed or m in part]
            placed[node] = Placement(x, y, *_away(x, y, near))
    return placed


def _open_group(group: _Group, graph: nx.Graph, centre: Mapping[str, tuple[float, float]]) -> dict[str, Placement]:
    """The hub, its label under it, and its members round it (a circle) or over it (a fan)."""
    hx, hy = centre[group.hub]
    n = len(group.members)
    toward = []  # each member's direction to its other links; None when it has none
    for member in group.members:
        others = [centre[m] for m in graph[member] if m != group.hub and m in centre]
        ox = sum(o[0] for o in others) / len(others) if others else hx
        oy = sum(o[1] for o in others) / len(others) if others else hy
        toward.append(math.atan2(oy - hy, ox - hx) if (ox, oy) != (hx, hy) else None)
    out = {group.hub: Placement(hx, hy, 0.0, 1.0)}
    if group.turned:
        step = 2 * math.pi / n
        # those with a direction by it, then the rest in id order; the first sits where it points
        ordered = sorted(range(n), key=lambda i: (toward[i] is None, toward[i] or 0.0, group.members[i]))
        start = toward[ordered[0]] or 0.0
        for slot, i in enumerate(ordered):
            angle = start + slot * step
            dx, dy = math.cos(angle), math.sin(angle)
            out[group.members[i]] = Placement(hx + group.radius * dx, hy + group.radius * dy, dx, dy, True)
        return out
    # A fan over the hub: left to right as the members' other links lie, labels outwards and level.
    across = [round(math.cos(t), 9) if t is not None else 0.0 for t in toward]
    ordered = sorted(range(n), key=lambda i: (across[i], group.members[i]))
    for slot, i in enumerate(ordered):
        angle = math.pi + (slot + 0.5) * math.pi / n
        dx, dy = math.cos(angle), math.sin(angle)
        label = (0.0, -1.0) if abs(dx) < 0.2 else (math.copysign(1.0, dx), 0.0)
        out[group.members[i]] = Placement(hx + group.radius * dx, hy + group.radius * dy, *label)
    return out


def _away(x: float, y: float, near: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """A unit vector from the centre of `near` towards (x, y): where a label has room."""
    if not near:
        return 1.0, 0.0
    mx, my = sum(p[0] for p in near) / len(near), sum(p[1] for p in near) / len(near)
    norm = math.hypot(x - mx, y - my)
    return ((x - mx) / norm, (y - my) / norm) if norm > 1e-9 else (1.0, 0.0)
