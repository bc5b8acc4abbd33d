"""The generated usage log (events.csv): well formed, consistent with links.csv, and as hard as real
traffic: people with habits, hard negatives that look coordinated, and rings that are."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from graph.generator import generate_population
from graph.generator.frames import BENCHMARK
from graph.generator.habits import MODELS, RELEASES
from graph.generator.templates import CATEGORIES

DAY = 86_400
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BENIGN = {"home", "family", "corporate", "cgnat", "vpn", "traveller"}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("usage")
    generate_population(directory, accounts=2_000, seed=11)
    return directory


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _events(out: Path) -> Iterator[dict[str, str]]:
    with (out / "events.csv").open(newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def _seconds(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _cohort(out: Path) -> dict[str, str]:
    return {row["account_id"]: row["cohort"] for row in _rows(out / "truth.csv")}


def _coaction_days(events: list[tuple[int, str]], window: int, accounts: int) -> int:
    """Distinct days on which at least `accounts` accounts sent within `window` seconds of each other."""
    events.sort()
    days: set[int] = set()
    start = 0
    for end in range(len(events)):
        while events[end][0] - events[start][0] > window:
            start += 1
        if len({a for _, a in events[start : end + 1]}) >= accounts:
            days.add(events[end][0] // DAY)
    return len(days)


def test_events_are_well_formed_and_in_time_order(out: Path) -> None:
    created = {row["account_id"]: row["created_at"] for row in _rows(out / "accounts.csv")}
    released = {MODELS[flagship]: when for when, flagship, _ in RELEASES} | {MODELS[3]: RELEASES[0][0]}
    previous = ""
    hidden = rows = 0
    for row in _events(out):
        rows += 1
        assert TIMESTAMP.match(row["ts"]) and row["ts"] >= previous, row["ts"]
        previous = row["ts"]
        assert row["ts"] >= created[row["account_id"]], "no request before the account exists"
        assert row["model"] in MODELS and row["category"] in CATEGORIES
        assert _seconds(row["ts"]) >= released.get(row["model"], 0), "no model is used before its release"
        assert int(row["input_tokens"]) >= 1 and int(row["output_tokens"]) >= 1 and int(row["count"]) >= 1
        assert bool(row["prompt"]) != bool(row["prompt_fingerprint"]), "text, or the provider's template id"
        if row["prompt_fingerprint"]:
            hidden += 1
            assert re.fullmatch(r"fp_[0-9a-f]{24}", row["prompt_fingerprint"])
        assert len(row["prompt"]) <= 1_000
    assert 0.03 < hidden / rows < 0.4


def test_event_ips_are_ip_links_of_the_account(out: Path) -> None:
    spans: dict[tuple[str, str], tuple[str, str]] = {}
    for row in _rows(out / "links.csv"):
        if row["kind"] == "ip":
            spans[(row["account_id"], row["value"].lower())] = (row["first_seen"], row["last_seen"])
    inside = total = 0
    for row in _events(out):
        total += 1
        span = spans.get((row["account_id"], row["ip"].lower()))
        assert span is not None, (row["account_id"], row["ip"])
        inside += span[0] <= row["ts"] <= span[1]
    assert inside / total > 0.95


def test_people_have_daily_habits_heavy_tailed_volume_and_popular_templates(out: Path) -> None:
    cohort = _cohort(out)
    hours: dict[str, Counter[int]] = defaultdict(Counter)
    translators: set[str] = set()
    for row in _events(out):
        if cohort[row["account_id"]] in BENIGN:
            hours[row["account_id"]][int(row["ts"][11:13])] += 1
            if row["prompt"].startswith("Translate the following text into "):
                translators.add(row["account_id"])
    volume = sorted((sum(h.values()) for h in hours.values()), reverse=True)
    assert sum(volume[: len(volume) // 100]) > 0.08 * sum(volume), "the busiest 1% send a large share"
    assert volume[len(volume) // 2] < sum(volume) / len(volume) / 2, "the median user sends little"
    busy = [h for h in hours.values() if sum(h.values()) >= 100]
    peak = [sum(n for _, n in h.most_common(12)) / sum(h.values()) for h in busy]
    assert busy and sum(peak) / len(peak) > 0.75, "people send in their own hours of the day"
    assert len(translators) >= 30, "a popular public template links nobody"


def test_a_class_sends_its_assignment_in_the_same_two_hours_week_after_week(out: Path) -> None:
    cohort = _cohort(out)
    sent: dict[str, list[tuple[int, str]]] = defaultdict(list)
    ips: dict[str, set[str]] = defaultdict(set)
    for row in _events(out):
        if cohort[row["account_id"]] == "student" and re.search(r"\b[A-Z]{2,4} \d{3} [A-Z]", row["prompt"][:60]):
            key = re.split(r" (Question|Task): ", row["prompt"])[0]
            sent[key].append((_seconds(row["ts"]), row["account_id"]))
            ips[key].add(row["ip"].rsplit(".", 1)[0])
    assert sent
    key = max(sent, key=lambda k: len(sent[k]))
    assert _coaction_days(sent[key], 2 * 3_600, 5) >= 3
    assert len({a for _, a in sent[key]}) >= 10


def test_researchers_run_the_same_benchmark_at_their_own_times_and_on_release_day(out: Path) -> None:
    cohort = _cohort(out)
    heads = tuple(text.split("{")[0] for _, text, _ in BENCHMARK)
    senders: dict[str, set[str]] = defaultdict(set)
    release_day: set[str] = set()
    for row in _events(out):
        if cohort[row["account_id"]] == "researcher" and row["prompt"].startswith(heads):
            senders[row["prompt"]].add(row["account_id"])
            t = _seconds(row["ts"])
            if any(when <= t <= when + 36 * 3_600 and row["model"] == MODELS[new] for when, new, _ in RELEASES):
                release_day.add(row["account_id"])
    assert max(len(s) for s in senders.values()) >= 3, "the same item, verbatim, from several researchers"
    assert len(release_day) >= 2, "many run it within a day and a half of a release"


def test_pipelines_send_thousands_of_templated_requests_around_the_clock(out: Path) -> None:
    cohort = _cohort(out)
    hours: dict[str, set[int]] = defaultdict(set)
    templates: dict[str, Counter[str]] = defaultdict(Counter)
    for row in _events(out):
        if cohort[row["account_id"]] == "pipeline":
            hours[row["account_id"]].add(int(row["ts"][11:13]))
            templates[row["account_id"]][row["prompt"][:30] or row["prompt_fingerprint"]] += 1
    busiest = max(templates, key=lambda a: sum(templates[a].values()))
    assert sum(templates[busiest].values()) >= 1_000
    assert len(hours[busiest]) == 24
    assert len(templates[busiest]) <= 3, "one or two templates"


def test_a_team_uses_its_assistant_together_day_after_day(out: Path) -> None:
    cohort = _cohort(out)
    sent: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in _events(out):
        if cohort[row["account_id"]] == "team" and row["prompt"].startswith("["):
            sent[row["prompt"].split("]")[0]].append((_seconds(row["ts"]), row["account_id"]))
    assert max(_coaction_days(events, 30 * 60, 3) for events in sent.values()) >= 3


def test_rings_run_jobs_in_their_own_wording_around_the_clock(out: Path) -> None:
    truth = {row["account_id"]: row for row in _rows(out / "truth.csv")}
    rings = {row["ring_id"]: row for row in _rows(out / "truth_rings.csv")}
    sent: dict[str, dict[str, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
    hours: dict[str, set[int]] = defaultdict(set)
    for row in _events(out):
        ring = truth[row["account_id"]]["ring_id"]
        if ring:
            key = row["prompt"][:40] or row["prompt_fingerprint"]
            sent[ring][key].append((_seconds(row["ts"]), row["account_id"]))
            hours[ring].add(int(row["ts"][11:13]))
    top = {ring: max(keys, key=lambda k: len(keys[k])) for ring, keys in sent.items()}
    for ring in (r for r, row in rings.items() if row["sharing"] == "behaviour"):
        lasted = _seconds(rings[ring]["end"]) - _seconds(rings[ring]["start"])
        days = _coaction_days(sent[ring][top[ring]], 10 * 60, 2)
        assert days >= (3 if lasted >= 14 * DAY else 1), f"{ring}: the same template, together, day after day"
    assert max(len(h) for h in hours.values()) == 24, "round the clock"
    operations = {rings[r]["operation_id"] for r in top}
    assert len(set(top.values())) >= len(operations) // 2, "operations word their templates differently"
