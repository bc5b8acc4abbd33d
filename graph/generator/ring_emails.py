"""Ring members' sign-up emails: throwaway free-mail, aliases of one mailbox, or the actor's own domain."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graph.generator.draft import Draft
from graph.generator.rings import RingPlan, RingWorld
from graph.generator.wordlists import FIRST_NAMES, LAST_NAMES

__all__ = ["ring_emails"]

Ints = npt.NDArray[np.int64]


def ring_emails(
    draft: Draft, world: RingWorld, plan: RingPlan, members: Ints, add_link: Callable[[str, Ints, Ints], None]
) -> None:
    """Sign-up emails of `members`; a few also register a recovery address (an email link).

    Behaviour-only rings use one distinct throwaway mailbox per member and nothing else.
    """
    rng = draft.rng
    n = plan.size
    addresses: list[str] = draft.identities.freemail(n).to_pylist()
    kind = rng.random(n)
    if plan.alias:
        mailbox, suffix = _mailbox_name(draft, int(members[0]))
        use = kind < rng.uniform(0.5, 1.0)
        for i in np.flatnonzero(use):
            addresses[i] = _alias(rng, mailbox, int(i), suffix)
    if plan.domain:
        domain = world.actors[plan.actor].domain
        use = kind > 1 - rng.uniform(0.1, 0.4)
        use[int(rng.integers(0, n))] = True
        handles = ("ops", "team", "dev", "research", "svc", "growth")
        numbers = draft.identities.mailbox_numbers(int(use.sum())) % 10_000
        # The account number keeps two rings of one actor from sharing a mailbox by a collision.
        for i, number in zip(np.flatnonzero(use), numbers, strict=True):
            handle = handles[int(rng.integers(0, len(handles)))]
            addresses[i] = f"{handle}{number}.{int(members[i])}@{domain}"
    draft.set_emails(int(members[0]), pa.array(addresses))
    extra = members[rng.random(n) < 0.1]
    add_link("email", extra, draft.identities.emails(draft.identities.freemail(len(extra))))


def _mailbox_name(draft: Draft, owner: int) -> tuple[str, str]:
    """A mailbox name, and a suffix unique to the ring (its first member) so rings never collide."""
    rng = draft.rng
    number = int(draft.identities.mailbox_numbers(1)[0]) % 1_000
    first = FIRST_NAMES[int(rng.integers(0, len(FIRST_NAMES)))]
    return f"{first}{LAST_NAMES[int(rng.integers(0, len(LAST_NAMES)))]}{number}", str(owner)


def _alias(rng: np.random.Generator, mailbox: str, member: int, suffix: str) -> str:
    """A Gmail variant of `mailbox`: dots and case are ignored, and so is anything after `+`."""
    chars: list[str] = []
    for i, ch in enumerate(mailbox):
        if i > 0 and rng.random() < 0.25 and chars[-1] != ".":
            chars.append(".")
        chars.append(ch.upper() if rng.random() < 0.15 else ch)
    local = "".join(chars).strip(".") + suffix
    if rng.random() < 0.75:
        local += f"+{('r', 'x', 'promo', 'acct', 'test')[int(rng.integers(0, 5))]}{member}"
    domain = "googlemail.com" if rng.random() < 0.3 else "gmail.com"
    return f"{local}@{domain}"
