"""DataStax graph-examples "fraud" scenarios (``datastax_fraud_scenarios``): 34 customers, 7 scenarios.

Source: GitHub ``datastax/graph-examples`` ``fraud/data/*.csv`` (pipe-delimited) and ``fraud/README.md``
(commit fa69b11). Licence: Apache-2.0.

Mapping:

- ``customers.customerid`` -> account; ``createdtime`` -> ``created_at``; ``email`` -> account
  ``email``; ``phone`` -> ``phone`` link; ``customerAddresses.countrycode`` -> ``country``.
- ``customerSessions`` + ``sessions``: ``deviceid`` -> ``device``, ``ipaddress`` -> ``ip``, each
  seen at the session's ``createdtime``.
- ``customerOrders`` + ``orders``: ``deviceid`` -> ``device``, ``ipaddress`` -> ``ip``,
  ``creditcardhashed`` -> ``payment`` as the token ``pm_<hash>`` (re-hashed so that no payment value
  is ever the source's own card field), at the order's ``createdtime``. Outcomes and chargebacks
  become account properties ``declined_orders`` and ``chargebacks`` (counts).
- Street addresses are not exported (there is no address kind) but are used for the ground truth.
- The placeholder phone ``100-000-0014`` (shared by 13 filler customers) **is** exported: it is the
  trap the projection has to survive.

Label: the README's scenarios, derived from the data as connected groups over device, IP, card,
email, phone **and street address**, with the documented placeholder phone left out. That yields
exactly the scenario groups of NOTES.md: {02,14}, {03,15..24}, {04,25}, {26,27}, {28,29,30},
{31..34} (ring ids ``scenario-2`` .. ``scenario-7``) and singletons. Cohort: ``fraud`` for scenarios
3-6, ``suspicious`` for 2 (the "husband and wife" pair) and 7 (the unconfirmed chain), ``legit``
otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from graph.datasets._bundle import (
    Adapter,
    BundleBuilder,
    ImportSummary,
    connected_groups,
    find_source_file,
    read_csv,
    token,
)

__all__ = ["ADAPTER", "PLACEHOLDER_PHONES", "import_datastax"]

PLACEHOLDER_PHONES: Final = frozenset({"100-000-0014"})
# A customer in each scenario group (last two digits of the customer id) -> scenario number, cohort.
_SCENARIOS: Final[dict[str, tuple[int, str]]] = {
    "02": (2, "suspicious"),
    "03": (3, "fraud"),
    "04": (4, "fraud"),
    "26": (5, "fraud"),
    "28": (6, "fraud"),
    "31": (7, "suspicious"),
}


def _rows(source: Path, name: str) -> list[dict[str, str]]:
    try:
        return list(read_csv(find_source_file(source, name), delimiter="|"))
    except FileNotFoundError:
        return []


def import_datastax(source: Path, out: Path) -> ImportSummary:
    """Write the bundle + truth.csv for the DataStax fraud scenarios in `source` into `out`."""
    bundle = BundleBuilder("datastax", ("declined_orders", "chargebacks"))
    truth_keys: list[tuple[str, str]] = []
    countries = {r["customerid"]: r.get("countrycode", "") for r in _rows(source, "customerAddresses.csv")}
    for row in read_csv(find_source_file(source, "customers.csv"), delimiter="|"):
        account = row["customerid"]
        bundle.account(
            account,
            created_at=_iso(row.get("createdtime", "")),
            email=row.get("email", ""),
            country=countries.get(account, ""),
        )
        stored = bundle.link(account, "phone", row.get("phone", ""))
        if stored is not None and row.get("phone", "") not in PLACEHOLDER_PHONES:
            truth_keys.append((account, f"phone:{stored}"))
        if row.get("email"):
            truth_keys.append((account, f"email:{row['email'].lower()}"))
    for row in _rows(source, "customerAddresses.csv"):
        address = " ".join(row.get(c, "").lower() for c in ("address", "city", "state", "postalcode"))
        truth_keys.append((row["customerid"], f"address:{address}"))

    sessions = {r["sessionid"]: r for r in _rows(source, "sessions.csv")}
    for link in _rows(source, "customerSessions.csv"):
        session = sessions.get(link["sessionid"])
        if session is None or link["customerid"] not in bundle.accounts:
            bundle.skip("session without session or customer row")
            continue
        _observe(bundle, truth_keys, link["customerid"], session, None)

    orders = {r["orderid"]: r for r in _rows(source, "orders.csv")}
    declined: dict[str, int] = {}
    for link in _rows(source, "customerOrders.csv"):
        order = orders.get(link["orderid"])
        if order is None or link["customerid"] not in bundle.accounts:
            bundle.skip("order without order or customer row")
            continue
        _observe(bundle, truth_keys, link["customerid"], order, order.get("creditcardhashed", ""))
        if order.get("outcome", "").lower() == "declined":
            declined[link["customerid"]] = declined.get(link["customerid"], 0) + 1
    chargebacks: dict[str, int] = {}
    for row in _rows(source, "customerChargebacks.csv"):
        chargebacks[row["customerid"]] = chargebacks.get(row["customerid"], 0) + 1
    for account in bundle.accounts:
        bundle.account(
            account,
            declined_orders=str(declined[account]) if account in declined else "",
            chargebacks=str(chargebacks[account]) if account in chargebacks else "",
        )

    for group in connected_groups(truth_keys):
        scenario = next((_SCENARIOS[a[-2:]] for a in group if a[-2:] in _SCENARIOS), None)
        ring, cohort = (f"scenario-{scenario[0]}", scenario[1]) if scenario else (f"group-{group[0]}", "unknown")
        for account in group:
            bundle.label(account, ring, cohort)
    for account in bundle.accounts:
        if account not in bundle.truth:
            bundle.label(account, "", "legit")
    return bundle.write(out)


def _observe(
    bundle: BundleBuilder, keys: list[tuple[str, str]], account: str, row: dict[str, str], card: str | None
) -> None:
    seen = row.get("createdtime", "")
    for kind, value in (
        ("device", row.get("deviceid", "")),
        ("ip", row.get("ipaddress", "")),
        ("payment", token("pm", card.lower()) if card else ""),
    ):
        stored = bundle.link(account, kind, value, _iso(seen))
        if stored is not None:
            keys.append((account, f"{kind}:{stored}"))


def _iso(text: str) -> str:
    """The source's ``2017-03-30T00:00:00.00Z`` -> ``2017-03-30T00:00:00Z``."""
    if "." in text and text.endswith("Z"):
        return text.split(".", 1)[0] + "Z"
    return text


ADAPTER = Adapter(
    name="datastax",
    source="github.com/datastax/graph-examples fraud/data/ + fraud/README.md",
    licence="Apache-2.0",
    run=import_datastax,
)
