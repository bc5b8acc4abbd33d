"""An independent population generator: a second, differently built world to measure ringtrace on.

    python -m bench.independent --out DIR --accounts N --seed S [--events-per-account 100] [--plain-events]
                                [--describe]
    python -m bench.independent --out DIR --describe        # describe an existing bundle

Why it exists. ringtrace's defaults were tuned on its own generator (graph/generator/) and failed on
data nobody here generated (its ring-merge rule fused separate campaigns of one operator). This
package was written without reading or importing that generator, or anything else in graph/: plain
Python, numpy and pyarrow, from the description below. It writes an input bundle as DESIGN.md §4
describes it (accounts.csv, links.csv, events.csv.gz, known.csv, ip_ranges.csv) and truth.csv
(`account_id, ring_id, organization, cohort, operation_id`; ring, organisation and operation empty
for benign accounts; operation_id groups the campaigns of one operator). Output is byte-identical
per (N, seed, events per account).

The description it was written from
-----------------------------------
A model provider's users over 44 weeks (2025-01-06 to 2025-11-09), three model generations
(helix-2 from the start, helix-3 released on day 96 at 17:00 UTC, helix-4 on day 232; lite variants).

Ordinary users (cohorts `benign`, `household`, `colleague`) live in households of 1-6 (household
members share the home address, whose ISP lease changes a few times a year, and sometimes a family
device, card or phone). A quarter work behind an employer's office NAT (a handful of addresses for
the whole company); mobile sessions come from a carrier's CGNAT pool (~80 users per address); ~9%
use a commercial VPN, a few Tor. Each person has their own time zone, one or two peak hours, a
weekday bias, log-normal volume (sigma 1.5: a long tail of heavy users), sessions of a few requests
seconds to minutes apart; public templates ("Translate the following text into French: ...",
"Summarise this article: ...", "Fix the grammar: ..."; 18 everyday ones plus the public wordings of
the six extraction intents, Zipf popularity, each person with a favourite) or free-form prompts;
new models adopted weeks after release. 12% of accounts come through a partner whose log carries
only the provider's near-duplicate id (`prompt_fingerprint`), never the text; for a group (a ring,
a class, a team) that choice is made once for the whole group.

Hard negatives, each its own cohort:
- `classroom`: classes of 8-140 students at a university (campus /22 listed as corporate, student
  e-mail domain) send their class's assignment template within the same two-hour lab slot on 2-6
  lab days, from a few campus NAT addresses; 60% signed up in the two weeks before the first lab.
- `benchmark_researcher`: labs of 1-4 run public benchmark items in order, seconds apart, at their own
  working hours, and 60% run one within 20 hours of each release, on the new model.
- `enterprise_pipeline`: single service accounts sending ~10^4 templated requests round the clock from
  cloud servers; 60% use one of five shared integration templates; a fifth of companies run a staging
  and a production account on one card and the same servers.
- `company_team`: 3-80 colleagues on the company's own listed network and domain, often one business
  card, with 2-3 internal templates sent during office hours.
- `proxy_customer`: ordinary people sending ordinary traffic through the same residential proxy
  networks the operators rent.

Operated rings (cohort `operated`): sizes from a discrete Pareto with alpha 0.9 between 2 and 4.5% of
the population (median ~4, a long tail into the thousands at N = 10^5), plus one "hydra" ring of 2.5%
that shares nothing but proxy exits. Fresh accounts signed up in 1-4 waves, or bought aged accounts
(with the previous owner's home and device, and for half of them light ordinary use before the sale). Sharing profiles:
hydra (nothing shared; one virtual-card BIN per ring), pooled (small device/card/phone pools),
sloppy (1-3 of each, scripted e-mails), cells (device cells sharing cards and management addresses,
signed up in one week: one ring). Exits: rotating or sticky residential proxies (pools of which
roughly half are real households, many of them this population's own), mobile proxies (carrier
CGNAT addresses), datacenter, VPN; a few requests from the operator's own servers. Behaviour: 1-4
frames per ring, each a per-ring paraphrase of an extraction intent (reasoning traces, rubric
grading, agentic tool use, computer use, code, "neutral" rewrites) or, for 20%, its public wording
verbatim (which ordinary users also send); a quarter reword a frame mid-campaign. Jobs round the
clock, in the operator's working hours, or in bursts; naive rings send a job round-robin over all
members within minutes; careful ones (35%) spread it over 20-60 minutes, touch 2-8 members per job,
add greeting/courtesy noise and mix 10-45% ordinary-looking requests in. After a release inside the
campaign, 30-90% of job traffic moves to the new model within 1-24 hours (80% of rings).
Operations: 62% one campaign, the rest 2-4 campaigns 30-110 days apart, consecutive campaigns tied by
a reused device or card, a known member of the same organisation, or the operator's own (or rented)
servers. A fifth of operations belong to a named organisation: members in known.csv, its own
hosting /27 or corporate /26 in ip_ranges.csv, its own e-mail domain on some members; a later
campaign may carry none of these and be tied to the organisation only through its sibling.

How this differs from a typical generator: rings are 14% of accounts and a third of the log, not a
few percent; sizes are heavy-tailed (a third are pairs) instead of a bounded uniform range; volume
is log-normal per person and template use Zipf; benign sharing (households, office NATs, CGNAT,
company cards, staging/production pairs) is common; proxy exits are real households; campaigns of
one operator reuse assets; one campaign can be split into cells; a share of the log has no text.

Files: accounts.csv, links.csv (payments add brand, bin, last4, country; values are opaque tokens
such as `pm_...` / `dv_...` with a letter every fifth character, phones at most 12 digits: no
value anywhere holds a Luhn-valid 13-19 digit run), events.csv.gz (rows in time order), known.csv,
ip_ranges.csv (nested ranges: longest prefix wins), truth.csv.

Modules: world (calendar, models, countries, cohorts), tokens, names, networks, vocabulary,
templates, population, benign, negatives, operations, ring_members, ordinary, special_usage,
ring_usage, events, tables, generate, describe.
"""

from __future__ import annotations

from .describe import describe
from .generate import Summary, generate

__all__ = ["Summary", "describe", "generate"]
