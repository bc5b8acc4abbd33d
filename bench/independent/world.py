"""The fixed frame of the world: its calendar, the provider's models and releases, countries, cohorts.

Everything here is constant across seeds; what varies per seed is drawn by the other modules.
Time is integer seconds since the Unix epoch, UTC. Local time is UTC plus a fixed offset per
person (no daylight saving: an hour of drift in summer changes nothing the detector should rely on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np

__all__ = [
    "CATEGORIES",
    "COHORTS",
    "COUNTRIES",
    "DAY",
    "DAYS",
    "END",
    "EPOCH",
    "GENERATION_RELEASES",
    "HOUR",
    "MINUTE",
    "MODELS",
    "WEEK",
    "Country",
    "cohort_code",
    "country_weights",
    "model_at",
    "rng_for",
]

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86_400
WEEK: Final = 7 * DAY
#: The log opens on a Monday and runs 44 weeks: long enough for campaigns months apart.
EPOCH: Final = int(datetime(2025, 1, 6, tzinfo=UTC).timestamp())
DAYS: Final = 308
END: Final = EPOCH + DAYS * DAY

#: The provider's models. Generation 0 is served from the start; generations 1 and 2 are released
#: during the log (a main model at GENERATION_RELEASES[g - 1]); the lite model of generation 1 follows
#: weeks later and stays the lite model of generation 2.
MODELS: Final = ("helix-2", "helix-2-lite", "helix-3", "helix-3-lite", "helix-4")
GENERATION_RELEASES: Final = (EPOCH + 96 * DAY + 17 * HOUR, EPOCH + 232 * DAY + 17 * HOUR + 30 * MINUTE)
_LITE_3_AT: Final = EPOCH + 150 * DAY + 16 * HOUR

#: The provider's own request classifier labels (what `category` carries).
CATEGORIES: Final = (
    "reasoning",
    "grading",
    "agentic",
    "coding",
    "translation",
    "summarization",
    "writing",
    "qa",
    "education",
    "classification",
    "extraction",
    "chat",
    "math",
    "rewrite",
)

#: truth.csv cohort names, in code order. Everything but `operated` is benign (no ring).
COHORTS: Final = (
    "benign",
    "household",
    "colleague",
    "proxy_customer",
    "classroom",
    "benchmark_researcher",
    "enterprise_pipeline",
    "company_team",
    "operated",
)


def cohort_code(name: str) -> int:
    return COHORTS.index(name)


@dataclass(frozen=True)
class Country:
    code: str
    offsets: tuple[int, ...]  # UTC offsets in minutes of its population's time zones
    weight: float  # share of ordinary users
    phone_cc: str
    phone_digits: int  # national significant number length; cc + digits stays <= 12 digits


COUNTRIES: Final = (
    Country("US", (-300, -360, -420, -480), 0.20, "1", 10),
    Country("IN", (330,), 0.09, "91", 10),
    Country("BR", (-180,), 0.06, "55", 10),
    Country("GB", (0,), 0.05, "44", 10),
    Country("DE", (60,), 0.05, "49", 10),
    Country("FR", (60,), 0.04, "33", 9),
    Country("JP", (540,), 0.04, "81", 10),
    Country("KR", (540,), 0.03, "82", 9),
    Country("ID", (420,), 0.04, "62", 10),
    Country("MX", (-360,), 0.03, "52", 10),
    Country("CA", (-300, -480), 0.03, "1", 10),
    Country("NG", (60,), 0.03, "234", 9),
    Country("PH", (480,), 0.03, "63", 10),
    Country("VN", (420,), 0.02, "84", 9),
    Country("TR", (180,), 0.02, "90", 10),
    Country("PL", (60,), 0.02, "48", 9),
    Country("ES", (60,), 0.02, "34", 9),
    Country("NL", (60,), 0.015, "31", 9),
    Country("AU", (600, 480), 0.02, "61", 9),
    Country("SG", (480,), 0.01, "65", 8),
    Country("EG", (120,), 0.02, "20", 10),
    Country("ZA", (120,), 0.015, "27", 9),
    Country("KE", (180,), 0.01, "254", 9),
    Country("AR", (-180,), 0.015, "54", 10),
    Country("UA", (120,), 0.01, "380", 9),
)


def country_weights() -> np.ndarray:
    weights = np.array([c.weight for c in COUNTRIES])
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def model_at(generation: np.ndarray, lite: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Model index served to a request of `generation` (0-2), lite or main, at time `ts` (vectorised)."""
    main = np.array([0, 2, 4], dtype=np.int8)[generation]
    lite_model = np.where(generation == 0, 1, np.where(ts >= _LITE_3_AT, 3, 1)).astype(np.int8)
    return np.where(lite, lite_model, main).astype(np.int8)


def rng_for(seed: int, *label: str | int) -> np.random.Generator:
    """An independent generator per (seed, component, part): adding a component changes no other one."""
    words = [seed & 0xFFFFFFFF, seed >> 32]
    for part in label:
        if isinstance(part, int):
            words.append(part & 0xFFFFFFFF)
        else:
            words.extend(part.encode())
    return np.random.default_rng(np.random.SeedSequence(words))
