"""A synthetic population with ground truth (DESIGN.md §4, `ringtrace generate`).

The bundle: accounts, links (account <-> IP, device, card, email, phone), known attributions, IP
ranges and a usage log (`events.csv`: who sent which prompt when, from which IP, to which model).
The ground truth: `truth.csv` (account_id, ring_id, organization, cohort, operation_id) and
`truth_rings.csv` (one row per ring: its operation and campaign, what its members share, fresh or
bought accounts, device cells, how it is tied to the operation's earlier campaign, when it ran).

Who is in it:

- benign cohorts that share innocently: households, families, colleagues, carrier-NAT mobile users,
  VPN users and travellers (`benign`);
- hard negatives whose usage looks coordinated: classes on one assignment, researchers on public
  benchmarks, API pipelines, teams sharing an internal assistant (`hard_negatives`, `human_usage`,
  `operated_usage`);
- rings run by operations (`rings`): one ring per campaign, fresh or bought accounts, some split
  into device cells, some operations running several campaigns months apart tied by a reused device,
  card or known member; infrastructure rings reuse devices, cards, numbers and IPs, behaviour-only
  rings share nothing but residential proxy exits and are visible only in what and when they send
  (`ring_members`, `ring_assets`); about half work for an actor organisation.

Determinism: the same (accounts, seed, events_per_account) gives byte-identical files. The usage
log has its own random stream (`usage.USAGE_STREAM`), so retuning it never changes the other files.
"""

from graph.generator.population import DEFAULT_EVENTS_PER_ACCOUNT, GenerationSummary, generate_population

__all__ = ["DEFAULT_EVENTS_PER_ACCOUNT", "GenerationSummary", "generate_population"]
