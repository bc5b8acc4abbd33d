"""The dossier's picture of an operation: its campaigns on one time axis, and which are tied.

One row per campaign (ring) in the order they ran: a bar from when its members' activity began to when
it ended, as thick as the campaign is large, labelled with its size, coordination score and dates; the
ring the dossier is about is drawn in red. Arcs on the left join campaigns the run tied (a shared card,
device, known member, an organisation's own network); hovering one names what ties them. Pure, from
plain data to SVG text, every value escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Final

__all__ = ["CampaignBar", "CampaignLink", "campaigns_svg"]

_CURRENT: Final = "#D62728"
_OTHER: Final = "#8E44AD"
_LEFT: Final = 124.0  # ring ids
_GUTTER: Final = 56.0  # arcs between tied campaigns
_PLOT: Final = 470.0
_RIGHT: Final = 340.0  # size, score, window
_ROW: Final = 30.0
_TOP: Final = 30.0


@dataclass(frozen=True)
class CampaignBar:
    ring_id: str
    start: datetime | None  # None: no dated observations
    end: datetime | None
    size: int
    score: float
    organization: str | None = None
    current: bool = False  # the ring the page is about


@dataclass(frozen=True)
class CampaignLink:
    """Two campaigns the run tied, and what ties them (one line per tie, for the tooltip)."""

    first: str
    second: str
    kinds: tuple[str, ...]


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _months(start: datetime, end: datetime) -> list[datetime]:
    """Tick dates: the first of every month, every quarter or every year, so that at most ~10 fit."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next(s for s in (1, 3, 6, 12, 24, 60) if months / s <= 10)
    ticks: list[datetime] = []
    year, month = start.year, 1 + ((start.month - 1) // step) * step if step < 12 else 1
    while True:
        moment = datetime(year, month, 1, tzinfo=UTC)
        if moment > end:
            return ticks
        if moment >= start:
            ticks.append(moment)
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


def campaigns_svg(bars: Sequence[CampaignBar], links: Sequence[CampaignLink] = ()) -> str:
    """The campaigns' activity windows on one axis, tied campaigns joined by arcs."""
    if not bars:
        return '<p class="empty">No campaigns.</p>'
    dated = [moment for bar in bars for moment in (bar.start, bar.end) if moment is not None]
    start = min(dated) if dated else datetime(2000, 1, 1, tzinfo=UTC)
    end = max(dated) if dated else start
    span = (end - start).total_seconds() or 86400.0
    largest = max(bar.size for bar in bars) or 1
    plot_left = _LEFT + _GUTTER
    width = plot_left + _PLOT + _RIGHT
    height = _TOP + len(bars) * _ROW + 10

    def x(moment: datetime) -> float:
        return plot_left + (moment - start).total_seconds() / span * _PLOT

    row = {bar.ring_id: i for i, bar in enumerate(bars)}
    parts = [f'<svg class="campaigns" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'width="{width:.0f}" role="img" aria-label="the operation\'s campaigns over time">']
    for tick in _months(start, end) if dated else []:
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{_TOP - 6}" x2="{tx:.1f}" y2="{height - 8:.0f}" class="grid"/>'
                     f'<text x="{tx:.1f}" y="{_TOP - 10}" text-anchor="middle" class="tick">'
                     f'{_e(tick.strftime("%Y-%m"))}</text>')
    for n, link in enumerate(sorted(links, key=lambda k: (row.get(k.first, 0), row.get(k.second, 0)))):
        if link.first not in row or link.second not in row:
            continue
        y1, y2 = (_TOP + (row[r] + 0.5) * _ROW for r in (link.first, link.second))
        reach = 10 + min(abs(row[link.first] - row[link.second]) * 10, _GUTTER - 16)
        gx = plot_left - 6
        current = any(bars[row[r]].current for r in (link.first, link.second))
        parts.append(f'<path d="M{gx:.1f} {y1:.1f} C{gx - reach:.1f} {y1:.1f} {gx - reach:.1f} {y2:.1f} '
                     f'{gx:.1f} {y2:.1f}" class="tie{" current" if current else ""}" data-n="{n}">'
                     f'<title>{_e(link.first)} and {_e(link.second)}: {_e(", ".join(link.kinds))}</title></path>')
    for i, bar in enumerate(bars):
        y = _TOP + i * _ROW
        mid = y + _ROW / 2
        window = "no dated observations"
        if bar.start is not None and bar.end is not None:
            window = f"{bar.start.date().isoformat()} to {bar.end.date().isoformat()}"
        facts = f"{bar.size:,} accounts · score {bar.score:.3f} · {window}"
        who = f", attributed to {bar.organization}" if bar.organization else ""
        parts.append(f'<g class="campaign{" current" if bar.current else ""}">'
                     f'<title>{_e(bar.ring_id)}: {_e(facts)}{_e(who)}</title>'
                     f'<text x="{_LEFT - 4:.0f}" y="{mid + 4:.1f}" text-anchor="end" class="ring">'
                     f'{_e(bar.ring_id)}</text>')
        if bar.start is not None and bar.end is not None:
            x0, x1 = x(bar.start), max(x(bar.end), x(bar.start) + 3)
            thick = 6 + 14 * math.sqrt(bar.size / largest)
            parts.append(f'<rect x="{x0:.1f}" y="{mid - thick / 2:.1f}" width="{x1 - x0:.1f}" height="{thick:.1f}" '
                         f'rx="2" fill="{_CURRENT if bar.current else _OTHER}"/>')
        parts.append(f'<text x="{plot_left + _PLOT + 10:.0f}" y="{mid + 4:.1f}" class="facts">{_e(facts)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
