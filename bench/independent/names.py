"""Names: people (for e-mail local parts), organisations of every kind, and their e-mail domains.

Organisation names are built from word lists; `Namer` hands out each name once per population, so
a university, a team's company and a known operator never share a name or a domain.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np

__all__ = ["FREE_MAIL", "Namer", "email_locals", "free_mail_domains"]

# fmt: off
_FIRST: Final = (
    "james", "mary", "wei", "li", "ana", "jose", "maria", "yuki", "hana", "arjun", "priya", "chen", "olga", "ivan",
    "sara", "omar", "fatima", "lucas", "emma", "noah", "mia", "leon", "lena", "juan", "carmen", "ahmed", "aisha",
    "kenji", "sakura", "minh", "linh", "tunde", "ngozi", "marek", "kasia", "emre", "elif", "diego", "sofia",
    "daniel", "laura", "pedro", "julia", "ali", "zeynep", "raj", "anita", "tom", "lisa", "ben", "nora", "felix",
    "clara", "sam", "ruth", "amit", "neha", "kwame", "ama", "paolo", "giulia", "jan", "eva", "ryo", "mei",
)
_LAST: Final = (
    "smith", "garcia", "wang", "li", "kumar", "singh", "silva", "santos", "mueller", "schmidt", "martin", "bernard",
    "tanaka", "suzuki", "kim", "park", "nguyen", "tran", "yilmaz", "kaya", "nowak", "kowalski", "lopez", "perez",
    "johnson", "brown", "okafor", "adeyemi", "ivanova", "petrov", "chen", "zhang", "sato", "ito", "rossi",
    "bianchi", "dubois", "moreau", "jansen", "devries", "fernandez", "gomez", "hassan", "ali", "mensah", "otieno",
    "reyes", "cruz", "wilson", "taylor",
)
_NICK: Final = (
    "sunny", "blue", "tiger", "quiet", "pixel", "nova", "river", "storm", "lucky", "maple", "coffee", "ninja",
    "wolf", "echo", "atlas", "orbit", "lime", "cosmo", "delta", "frost", "ember",
)
# fmt: on

#: Free-mail providers: an address there says nothing about an organisation.
FREE_MAIL: Final = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "proton.me",
    "icloud.com",
    "gmx.de",
    "mail.ru",
    "yandex.com",
    "hotmail.com",
    "naver.com",
    "qq.com",
    "web.de",
)
_FREE_MAIL_WEIGHTS: Final = np.array([30, 16, 8, 5, 7, 3, 3, 2, 6, 3, 3, 2], dtype=float)

# fmt: off
_ORG_WORDS: Final = {
    "university": (
        ("Eastmoor", "Redfield", "Calder", "Ashbury", "Norhaven", "Veltra", "Lindqvist", "Marrow", "Ostrava",
         "Pellham", "Quarry", "Selbourne", "Tamsin", "Ulmer", "Wexford", "Yarrow", "Brantley", "Castell",),
        ("University", "Institute of Technology", "State University", "College", "Polytechnic",),
        "edu",
    ),
    "company": (
        ("Blue", "Iron", "Silver", "Northstar", "Quick", "Bright", "Cedar", "Harbor", "Summit", "Prairie", "Copper",
         "Lumen", "Granite", "Falcon", "Orchard", "Vector", "Willow", "Beacon", "Meridian", "Tidal",),
        ("Logistics", "Retail", "Insurance", "Health", "Media", "Foods", "Legal", "Software", "Energy", "Travel",
         "Banking", "Telecom", "Robotics", "Pharma", "Realty", "Games", "Analytics", "Labs",),
        "com",
    ),
    "operator": (
        ("Kestrel", "Baiyun", "Nordvale", "Obsidian", "Zephyr", "Crimson", "Halcyon", "Monarch", "Sable", "Tundra",
         "Vantage", "Argent", "Corvid", "Helios", "Juniper", "Lodestar",),
        ("Data Services", "Analytics Ltd", "AI Research", "Intelligence Co", "Digital Labs", "Compute Group",
         "Knowledge Systems", "Model Works",),
        "io",
    ),
    "isp": (
        ("Telia", "Vodaline", "Comnet", "Fibrex", "Skyline", "Homenet", "Netstar", "Broadwave", "Cablex", "Optilink",),
        ("Broadband", "Telecom", "Fibre", "Cable", "Internet",),
        "net",
    ),
    "carrier": (
        ("Airtel", "Movil", "Ringo", "Celluna", "Mobix", "Telesur", "Orbit", "Wavecom",),
        ("Mobile", "Wireless", "Cellular",),
        "net",
    ),
    "hosting": (
        ("Northwind", "Stratus", "Blueharbor", "Kumo", "Vexa", "Hetra", "Cirrus", "Ironclad",),
        ("Cloud", "Compute", "Hosting", "Servers", "Datacenters",),
        "net",
    ),
    "vpn": (
        ("TunnelFox", "Shieldway", "PrivaNet", "OpenRoute", "Cloakly", "Veilnet",),
        ("VPN",),
        "net",
    ),
}
# fmt: on


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]+", "-", name.lower()).strip("-")


class Namer:
    """Unique organisation names and domains, drawn per kind from its word lists."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def organisation(self, kind: str) -> tuple[str, str]:
        """(name, e-mail domain) of a new organisation of `kind`."""
        heads, tails, tld = _ORG_WORDS[kind]
        for attempt in range(10_000):
            name = f"{heads[self._rng.integers(len(heads))]} {tails[self._rng.integers(len(tails))]}"
            if attempt > 200:  # word lists exhausted: a second head word keeps names unique
                name = f"{heads[self._rng.integers(len(heads))]} {name}"
            if name not in self._used:
                self._used.add(name)
                return name, f"{_slug(name)}.{tld}"
        raise RuntimeError(f"ran out of {kind} names")


def email_locals(rng: np.random.Generator, count: int, style: str = "person") -> list[str]:
    """Local parts: people's own (`person`) or a sign-up script's (`pattern`: one shape, short digits)."""
    first = rng.integers(len(_FIRST), size=count)
    last = rng.integers(len(_LAST), size=count)
    shape = rng.integers(6, size=count) if style == "person" else np.full(count, rng.integers(6, 9))
    numbers = rng.integers(0, 10_000, size=count)
    years = rng.integers(60, 100, size=count) % 100
    out = []
    for f, la, s, n, y in zip(first, last, shape, numbers, years, strict=True):
        fn, ln = _FIRST[f], _LAST[la]
        out.append(
            (
                f"{fn}.{ln}",
                f"{fn[0]}{ln}",
                f"{fn}_{ln}{y:02d}",
                f"{fn}{n % 1000}",
                f"{_NICK[n % len(_NICK)]}.{fn}{y:02d}",
                f"{ln}.{fn}{n % 100}",
                f"{fn}.{ln}.{n:04d}",
                f"{fn[0]}{ln[:4]}{n:04d}",
                f"{ln}{fn[:2]}{n % 1000:03d}",
            )[s]
        )
    return out


def free_mail_domains(rng: np.random.Generator, count: int) -> np.ndarray:
    return np.array(FREE_MAIL)[rng.choice(len(FREE_MAIL), size=count, p=_FREE_MAIL_WEIGHTS / _FREE_MAIL_WEIGHTS.sum())]
