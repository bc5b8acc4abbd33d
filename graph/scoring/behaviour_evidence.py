"""Explanations of the behavioural features: one item each, with the figures an investigator reads."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graph.behaviour.activity import RingActivity, duration
from graph.scoring.behaviour import Behaviour, RingCoaction
from graph.scoring.evidence import EvidenceItem, Explanation
from graph.scoring.features import COORDINATION_FEATURES
from graph.scoring.model import LogisticModel

__all__ = ["explain_behaviour"]

_COL = {f: i for i, f in enumerate(COORDINATION_FEATURES)}
_SKELETON_SHOWN = 80


def _template(behaviour: Behaviour, index: int) -> str:
    key = str(behaviour.template_keys[index])
    skeleton = behaviour.template_skeleton[index]
    if skeleton:
        shown = skeleton if len(skeleton) <= _SKELETON_SHOWN else skeleton[: _SKELETON_SHOWN - 1] + "…"
        return f"template {key} (skeleton: '{shown}')"
    return f"template {key}"


def explain_behaviour(
    explanation: Explanation,
    behaviour: Behaviour | None,
    features: npt.NDArray[np.float64],
    model: LogisticModel,
    activity: RingActivity,
    coaction: RingCoaction,
    size: int,
) -> Explanation:
    """`explanation` with one item per behavioural feature the ring has (their llrs added in)."""
    if behaviour is None:
        return explanation
    by = model.contributions(features[None, :])[0].tolist()
    value = features.tolist()
    items = list(explanation.items)
    cover, days, spread, excess = (_COL[f] for f in ("coaction_cover", "coaction_days", "coaction_spread",
                                                      "coaction_excess"))
    if value[cover] > 0 or value[days] > 0:
        t = coaction.pairs[0][2]
        sentence = (
            f"{coaction.members} of {size} members sent the same rare template within "
            f"{behaviour.params.window_minutes} minutes of another member, a pair of them on {coaction.days} "
            f"distinct days (most telling: {_template(behaviour, t)}); they met in {coaction.observed:,} "
            f"time windows, in {coaction.hours} of the 24 hours of the day, where their own habits of hour "
            f"would explain {coaction.expected:,.1f}."
        )
        members = tuple(sorted({a for a1, a2, _ in coaction.pairs for a in (a1, a2)}))
        sent = tuple((p, q, str(behaviour.template_keys[k])) for p, q, k in coaction.pairs)
        llr = by[cover] + by[days] + by[spread] + by[excess]
        items.append(EvidenceItem("coaction", llr, sentence, members, sent=sent))
    cited = _activity_paths(behaviour, explanation)
    rtc = _COL["round_the_clock"]
    if value[rtc] > 0:
        active_hours = sum(1 for h in activity.hours if h)
        items.append(EvidenceItem(
            "round_the_clock", by[rtc],
            f"The ring's {activity.requests:,} requests came in {active_hours} of the 24 hours of the day "
            f"(evenness {value[rtc]:.0%}: 100% is the same volume every hour).",
            tuple(a for a, _, _ in cited), sent=cited))
    focus = _COL["category_focus"]
    if value[focus] > 0 and activity.categories:
        name, share = activity.categories[0]
        items.append(EvidenceItem(
            "category_focus", by[focus], f"{share:.0%} of the ring's {activity.requests:,} requests were {name}.",
            tuple(a for a, _, _ in cited), sent=cited))
    pivot = _COL["model_pivot"]
    if value[pivot] > 0 and activity.model_switch is not None and activity.switch_hours is not None:
        items.append(EvidenceItem(
            "model_pivot", by[pivot],
            f"It moved to {activity.model_switch} {duration(activity.switch_hours)} after its release; "
            f"{activity.switch_share:.0%} of members used it within a day.",
            tuple(a for a, _, _ in cited), sent=cited))
    return Explanation.of(items)


def _activity_paths(behaviour: Behaviour, explanation: Explanation) -> tuple[tuple[int, int, str], ...]:
    """Up to three members with what each sent most, for the activity items' paths."""
    members = sorted({a for item in explanation.items if item.kind == "ring_size" for a in item.accounts})
    cited = []
    for account in members:
        found = behaviour.activity.get(account)
        if found is not None and found.top_template is not None:
            cited.append((account, -1, found.top_template))
        if len(cited) == 3:
            break
    return tuple(cited)

