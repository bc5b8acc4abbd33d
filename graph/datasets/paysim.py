"""PaySim 2.x clients of the Neo4j Graph Summit APAC 2023 workshop (``paysim_neo4j_apac``).

Source: GitHub ``neo4j-field/graph-summit-apac-2023`` ``data/clients.csv`` (commit aee7b9f), generated
with Dave Voutila's PaySim 2.x fork. Licence: none stated -- private evaluation only, never
redistribute or commit the data.

Mapping:

- client ``ID`` -> account ``ps_<hash>`` (a token of the id). The raw 16-digit ids start with 4 like
  card numbers and many are Luhn-valid: the loader refuses a card number in any field, with or
  without a prefix, so the ids are hashed (every one, so that all accounts look alike).
- ``EMAIL`` -> the account's ``email`` (linked like an ``email`` link, domain kept).
- ``PHONENUMBER`` -> ``phone`` link (digits only; the ``997-586-014`` values carry no country code).
- ``SSN`` -> **not exported**. There is no SSN kind; mapping it to ``device`` or ``payment`` would
  give a government id the weight of a device fingerprint under a wrong name, and a hash of a
  9-digit value is reversible by enumeration, so it is not kept as a property either. It is used
  only to derive the ground truth, which is why recall from email + phone alone can stay below the
  published identifier-WCC numbers.
- ``ISFRAUD`` -> cohort ``fraud`` / ``legit``; ``NAME`` and the transfers (account-to-account money
  movement, not identifier sharing) are not exported.

Label: a ring is a connected group of >= 2 fraud clients sharing an SSN, email or phone (NOTES.md:
15 rings, all 100 % fraud, 121 of 151 fraud clients; no ring-id column exists in the source).
"""

from __future__ import annotations

from pathlib import Path

from graph.datasets._bundle import (
    Adapter,
    BundleBuilder,
    ImportSummary,
    connected_groups,
    find_source_file,
    read_csv,
    ring_ids,
    token,
)

__all__ = ["ADAPTER", "import_paysim"]


def import_paysim(source: Path, out: Path) -> ImportSummary:
    """Write the bundle + truth.csv for the PaySim clients in `source` into `out`."""
    bundle = BundleBuilder("paysim")
    fraud: set[str] = set()
    identifiers: list[tuple[str, str]] = []
    for row in read_csv(find_source_file(source, "clients.csv")):
        if not row.get("ID"):
            bundle.skip("client without ID")
            continue
        account = token("ps", row["ID"])
        bundle.account(account, email=row.get("EMAIL", ""))
        bundle.link(account, "phone", row.get("PHONENUMBER", ""))
        if row.get("ISFRAUD", "").lower() == "true":
            fraud.add(account)
        for kind in ("SSN", "EMAIL", "PHONENUMBER"):
            if row.get(kind):
                identifiers.append((account, f"{kind}:{row[kind].lower()}"))
    rings = ring_ids(connected_groups((a, k) for a, k in identifiers if a in fraud), "paysim-ring")
    for account in bundle.accounts:
        bundle.label(account, rings.get(account, ""), "fraud" if account in fraud else "legit")
    return bundle.write(out)


ADAPTER = Adapter(
    name="paysim",
    source="github.com/neo4j-field/graph-summit-apac-2023 data/clients.csv (PaySim 2.x)",
    licence="none stated (private evaluation only)",
    run=import_paysim,
)
