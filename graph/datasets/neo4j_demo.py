"""Neo4j "Fraud Demo" export (``neo4j_demo_fraud``): 74 customers, shared PII, fraud flags, Louvain ids.

Source: GitHub ``neo4j-product-examples/demo-fraud`` ``data/export_transactions_*.csv`` (commit 174d3d7,
prefix stripped). Licence: Apache-2.0. Synthetic demo data written by Neo4j.

Mapping:

- ``Customer.customerID`` -> account; ``Customer_USES_EMAIL_Email`` + ``Email.emailAddress`` -> the
  account's ``email`` (a second address becomes an ``email`` link);
  ``Customer_USES_PHONE_PhoneNumber`` + ``PhoneNumber.number`` -> ``phone`` link (``+1-555-6768`` ->
  ``+15556768``).
- ``Customer_HAS_ACCOUNT_Account`` + ``Account_with_labels.accountNumber`` -> ``payment`` link, as the
  token ``pm_<hash>`` of the bank-account number (never the number itself).
- ``Customer_RESIDES_AT_Address`` -> only the account's ``country``: there is no address kind, so the
  shared street addresses of the source are not links here. Name, date of birth, betweenness and
  pagerank are left out; the AML transactions are not identifier sharing.

Label: ``fraudFlag`` -> cohort ``fraud``/``legit``. The ring id is Neo4j's own stored
``louvainCommunity`` (``louvain-<id>``, communities of >= 2 customers): a *reference partition*
from Neo4j's run over its SHARED_IDENTIFIERS projection (which included addresses), not a fraud
ground truth -- 6 of its 7 non-trivial communities hold a flagged customer.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from graph.datasets._bundle import (
    Adapter,
    BundleBuilder,
    ImportSummary,
    find_source_file,
    read_csv,
    token,
)

__all__ = ["ADAPTER", "import_neo4j_demo"]


def _table(source: Path, name: str, key: str) -> dict[str, dict[str, str]]:
    try:
        return {r[key]: r for r in read_csv(find_source_file(source, name))}
    except FileNotFoundError:
        return {}


def _edges(source: Path, name: str) -> list[tuple[str, str]]:
    try:
        rows = list(read_csv(find_source_file(source, name)))
    except FileNotFoundError:
        return []
    edges: list[tuple[str, str]] = []
    for row in rows:
        values = list(row.values())
        if len(values) >= 2 and values[0] and values[1]:
            edges.append((values[0], values[1]))
    return sorted(edges)


def import_neo4j_demo(source: Path, out: Path) -> ImportSummary:
    """Write the bundle + truth.csv for the Neo4j fraud demo export in `source` into `out`."""
    bundle = BundleBuilder("neo4j_demo")
    customers = list(read_csv(find_source_file(source, "Customer.csv")))
    addresses = _table(source, "Address.csv", "addressID")
    country = {c: addresses.get(a, {}).get("country", "") for c, a in _edges(source, "Customer_RESIDES_AT_Address.csv")}
    for row in customers:
        bundle.account(row["customerID"], country=country.get(row["customerID"], ""))
    emails = _table(source, "Email.csv", "emailID")
    for customer, email_id in _edges(source, "Customer_USES_EMAIL_Email.csv"):
        address = emails.get(email_id, {}).get("emailAddress", "")
        if customer not in bundle.accounts or not address:
            bundle.skip("email edge without customer or email")
        elif "email" not in bundle.accounts[customer]:
            bundle.account(customer, email=address)
        else:
            bundle.link(customer, "email", address)
    phones = _table(source, "PhoneNumber.csv", "phoneNumberID")
    for customer, phone_id in _edges(source, "Customer_USES_PHONE_PhoneNumber.csv"):
        number = phones.get(phone_id, {}).get("number", "")
        if customer not in bundle.accounts or not number:
            bundle.skip("phone edge without customer or number")
        else:
            bundle.link(customer, "phone", number)
    bank = _table(source, "Account_with_labels.csv", "accountID")
    for customer, account_id in _edges(source, "Customer_HAS_ACCOUNT_Account.csv"):
        number = bank.get(account_id, {}).get("accountNumber", "") or account_id
        if customer not in bundle.accounts:
            bundle.skip("bank-account edge without customer")
        else:
            bundle.link(customer, "payment", token("pm", number))
    sizes = Counter(r.get("louvainCommunity", "") for r in customers)
    for row in customers:
        community = row.get("louvainCommunity", "")
        ring = f"louvain-{community}" if community and sizes[community] >= 2 else ""
        cohort = "fraud" if row.get("fraudFlag", "").lower() == "true" else "legit"
        bundle.label(row["customerID"], ring, cohort)
    return bundle.write(out)


ADAPTER = Adapter(
    name="neo4j_demo",
    source="github.com/neo4j-product-examples/demo-fraud data/export_transactions_*.csv",
    licence="Apache-2.0",
    run=import_neo4j_demo,
)
