"""The CLI prints data as text: rich markup in an account id, a value or an organisation is shown, never obeyed."""

from __future__ import annotations

import io

import pytest
import typer
from rich.console import Console

from graph.cli.common import fail
from graph.cli.render import print_account, print_load_report, print_ring
from graph.ingest.loader import FileReport, LoadReport, Reject
from graph.records import AccountAttributionView, OrgAttribution, RingDetail, RingSummary

HOSTILE = ["[/]", "[bold red]spoofed[/]", "[link=http://evil.example]click[/link]", "x\x1b[2Jy", "[/bold]"]


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, color_system=None, force_terminal=False), out


def test_rejected_values_and_file_errors_are_printed_literally() -> None:
    console, out = _console()
    report = FileReport("links", "bundle/[red]links.csv")
    report.rejects.extend(Reject("bundle/links.csv", i + 2, f"field{text}", text, f"reason {text}")
                          for i, text in enumerate(HOSTILE))
    report.error = "header lacks account_id (found: [/], [bold]x)"
    print_load_report(console, LoadReport([report]))
    printed = out.getvalue()
    for text in ("[/]", "[bold red]spoofed[/]", "[link=http://evil.example]click[/link]", "[bold]x"):
        assert text in printed
    assert "\x1b" not in printed


def _summary(organization: str) -> RingSummary:
    return RingSummary(ring_id="ring-[/]", run_id="run-1", size=3, score=0.9, organization=organization,
                       attribution_confidence=0.8)


@pytest.mark.parametrize("name", HOSTILE)
def test_organisations_and_ids_from_data_are_printed_literally(name: str) -> None:
    console, out = _console()
    attribution = OrgAttribution(organization=name, confidence=0.8, prior_llr=0.0, evidence=())
    detail = RingDetail(summary=_summary(name), members=(), member_count=0, members_next_cursor=None,
                        coordination_prior_llr=0.0, coordination_evidence=(),
                        attributions=(attribution,))
    print_ring(console, 1, detail, evidence=1)
    view = AccountAttributionView(account_id=f"acc{name}", run_id="run-1", ring=_summary(name),
                                  membership_confidence=0.7, attributions=(attribution,))
    print_account(console, view, detail, evidence=1)
    printed = out.getvalue()
    assert name.replace("\x1b", "") in printed.replace("\\x1b", "") and "ring-[/]" in printed
    assert "\x1b" not in printed


def test_an_error_message_is_printed_literally(capsys: pytest.CaptureFixture[str]) -> None:
    exit_ = fail(ValueError("no query '[/]'; see [bold]--list"))
    assert isinstance(exit_, typer.Exit)
    assert "no query '[/]'; see [bold]--list" in capsys.readouterr().out
