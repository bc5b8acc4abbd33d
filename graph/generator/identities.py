"""Personal identifiers: mailboxes, phone numbers, device fingerprints and card tokens.

Mailboxes and phone numbers are made unique by construction (a scrambled counter), so two unrelated
accounts never share one by accident; the only sharing in the bundle is the sharing the population
code puts there on purpose.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graph.generator.entities import EntityRegistry
from graph.generator.text import decimal_strings, hex_tokens, join, prefixed_numbers
from graph.generator.wordlists import CARD_BRANDS, FIRST_NAMES, FREEMAIL_DOMAINS, LAST_NAMES

__all__ = ["Identities"]

Ints = npt.NDArray[np.int64]

# Multiplier coprime with the modulus, so counter -> number is a bijection.
_PHONE_SPACE = 8_000_000_000
_PHONE_STEP = 2_654_435_761
_MAIL_SPACE = 10_000_000
_MAIL_STEP = 7_654_321


class Identities:
    """Mints identifiers for one generation run; counters keep every minted value distinct."""

    def __init__(self, rng: np.random.Generator, registry: EntityRegistry) -> None:
        self._rng = rng
        self._registry = registry
        self._phones = 0
        self._mailboxes = int(rng.integers(0, 1_000_000))
        self._first = pa.array(FIRST_NAMES)
        self._last = pa.array(LAST_NAMES)
        self._domains = pa.array([d for d, _ in FREEMAIL_DOMAINS])
        weights = np.array([w for _, w in FREEMAIL_DOMAINS])
        self._domain_p = weights / weights.sum()

    def _mailbox_numbers(self, count: int) -> Ints:
        counter = np.arange(self._mailboxes, self._mailboxes + count, dtype=np.int64)
        self._mailboxes += count
        # A scrambled counter reads like the digits people pick, yet never repeats (< 10^7 boxes):
        # affine step, digit reversal, affine step -- each a bijection on [0, 10^7).
        mixed = (counter * _MAIL_STEP + 1_234_567) % _MAIL_SPACE
        powers = 10 ** np.arange(7, dtype=np.int64)
        reversed_ = (((mixed[:, None] // powers) % 10) * powers[::-1]).sum(axis=1)
        scrambled: Ints = (reversed_ * 3_141_593 + 2_718_281) % _MAIL_SPACE
        return scrambled

    def names(self, count: int) -> tuple[Ints, Ints]:
        """Indices of random first and last names."""
        first = self._rng.integers(0, len(FIRST_NAMES), count, dtype=np.int64)
        last = self._rng.integers(0, len(LAST_NAMES), count, dtype=np.int64)
        return first, last

    def freemail(self, count: int) -> pa.Array:
        """Distinct free-mail addresses such as `mary.lopez4821@gmail.com`."""
        rng = self._rng
        first, last = self.names(count)
        numbers = decimal_strings(self._mailbox_numbers(count))
        separators = pa.array(np.array([".", "", "_"])[rng.choice(3, count, p=[0.5, 0.35, 0.15])])
        domain = self._domains.take(pa.array(rng.choice(len(self._domain_p), count, p=self._domain_p)))
        local = join([self._first.take(pa.array(first)), separators, self._last.take(pa.array(last))])
        return join([local, numbers, "@", domain])

    def mailbox_numbers(self, count: int) -> Ints:
        """Distinct numbers for hand-built mailbox names (ring aliases, actor-domain addresses)."""
        return self._mailbox_numbers(count)

    def company_mail(self, count: int, domain: str) -> pa.Array:
        """`first.last@domain` for `count` colleagues, all distinct within the company."""
        combos = len(FIRST_NAMES) * len(LAST_NAMES)
        picked = self._rng.choice(combos, count, replace=count > combos)
        first = self._first.take(pa.array(picked // len(LAST_NAMES)))
        last = self._last.take(pa.array(picked % len(LAST_NAMES)))
        return join([join([first, last], "."), "@" + domain])

    def devices(self, count: int) -> Ints:
        """New device fingerprints."""
        return self._registry.add("device", [hex_tokens("dev_", self._rng, count, 20)])

    def cards(self, count: int) -> Ints:
        """New payment instruments: a `pm_` token plus brand, BIN and last four digits."""
        rng = self._rng
        weights = np.array([w for _, _, w in CARD_BRANDS])
        brand_idx = rng.choice(len(CARD_BRANDS), count, p=weights / weights.sum())
        prefixes = [prefix for _, group, _ in CARD_BRANDS for prefix in group]
        owner = np.array([b for b, (_, group, _) in enumerate(CARD_BRANDS) for _ in group])
        # Each card picks one of its brand's BIN prefixes and pads to six digits.
        pick = np.array([rng.choice(np.flatnonzero(owner == b)) for b in range(len(CARD_BRANDS))])
        prefix_idx = pick[brand_idx]
        prefix_len = np.array([len(p) for p in prefixes])[prefix_idx]
        tail = rng.integers(0, 10**5, count, dtype=np.int64) % (10 ** (6 - prefix_len))
        bins = join(
            [
                pa.array(prefixes).take(pa.array(prefix_idx)),
                pc.utf8_lpad(decimal_strings(tail), 5, padding="0"),
            ]
        )
        bins = pc.utf8_slice_codeunits(bins, 0, 6)
        last4 = prefixed_numbers("", rng.integers(0, 10_000, count, dtype=np.int64), 4)
        brand = pa.array([name for name, _, _ in CARD_BRANDS]).take(pa.array(brand_idx))
        return self._registry.add_cards(hex_tokens("pm_", rng, count, 24), brand, bins, last4)

    def phones(self, country_codes: pa.Array) -> Ints:
        """One new phone number per given country calling code, in five common spellings."""
        count = len(country_codes)
        counter = np.arange(self._phones, self._phones + count, dtype=np.int64)
        self._phones += count
        national = 2_000_000_000 + (counter * _PHONE_STEP + 104_729) % _PHONE_SPACE
        return self._registry.add("phone", _phone_spellings(country_codes, national))

    def placeholder_phone(self) -> Ints:
        """The `0000000000` a broken sign-up form fills in for thousands of strangers."""
        spellings = ["+10000000000", "0000000000", "+1 (000) 000-0000", "000-000-0000", "+1 000 000 0000"]
        return self._registry.add("phone", [pa.array([s]) for s in spellings])

    def emails(self, addresses: pa.Array) -> Ints:
        """Register email identifiers (for email links beyond the account's own address)."""
        return self._registry.add("email", [addresses])


def _phone_spellings(country_codes: pa.Array, national: Ints) -> list[pa.Array]:
    """E.164 plus four human spellings; NANP numbers group 3-3-4, the rest 2-4-4."""
    digits = prefixed_numbers("", national, 10)
    nanp = pc.equal(country_codes, "1")
    g1 = pc.if_else(nanp, pc.utf8_slice_codeunits(digits, 0, 3), pc.utf8_slice_codeunits(digits, 0, 2))
    g2 = pc.if_else(nanp, pc.utf8_slice_codeunits(digits, 3, 6), pc.utf8_slice_codeunits(digits, 2, 6))
    g3 = pc.utf8_slice_codeunits(digits, 6, 10)
    plus = join(["+", country_codes])
    return [
        join([plus, digits]),
        join([plus, g1, g2, g3], " "),
        join([plus, " (", g1, ") ", g2, "-", g3]),
        join([join(["00", country_codes]), g1, g2, g3], " "),
        join([plus, g1, g2, g3], "-"),
    ]
