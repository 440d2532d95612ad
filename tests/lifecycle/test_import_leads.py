"""Leads through the import framework: a 300-row slice of the public X Education file, its
preset, the stage history written with each batch, re-imports, bad cells, the wizard and the CLI.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from cible.lifecycle.leads import importing
from cible.lifecycle.leads.models import Lead, StageTransition
from cible.quality.imports import services
from cible.quality.imports.models import ImportRun
from tests import factories
from tests.quality.imports.engine_support import csv_bytes, var_dir  # noqa: F401

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "x-education-leads"
SLICE_ROWS = 300


@pytest.fixture(autouse=True)
def leads_importable() -> None:
    """The leads app's ready() registers the entity; until then the tests do it."""
    importing.register()


def x_education_slice(target: Path, rows: int = SLICE_ROWS) -> Path:
    """The header and the first `rows` data rows of the real file, as they are (CRLF)."""
    source = DATA / "Leads-train.csv"
    if not source.is_file():
        pytest.skip(f"the public X Education file is absent ({source})")
    lines = source.read_bytes().split(b"\r\n")
    target.write_bytes(b"\r\n".join(lines[: rows + 1]) + b"\r\n")
    return target


@pytest.fixture
def slice_file(tmp_path: Path) -> Path:
    return x_education_slice(tmp_path / "Leads-train-300.csv")


def expected(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def run_file(actor: Any, path: Path | bytes, *, source: str = "X Education", **options: Any) -> Any:
    content = path.read_bytes() if isinstance(path, Path) else path
    run = services.upload(
        actor=actor, entity="leads", source=source, file=content, filename="leads.csv"
    )
    services.configure(
        run,
        actor=actor,
        mapping={**run.mapping, **dict.fromkeys(options.pop("keep", ()), "properties")},
        key=options.pop("key", "external_id"),
        policy=options.pop("policy", "fill_empty"),
    )
    if options.pop("dry_run", False):
        return services.check(run, actor=actor, inline=True)
    return services.start(run, actor=actor, inline=True)


@pytest.mark.django_db
def test_x_education_slice_becomes_leads_with_outcome_source_and_typed_properties(
    cast: Any, slice_file: Path
) -> None:
    rows = expected(slice_file)
    run = run_file(cast.ae, slice_file)

    assert run.suggested_from == "preset:x_education"
    assert run.mapping["Prospect ID"] == "external_id"
    assert run.mapping["Converted"] == "stage"
    assert run.mapping["Lead Source"] == "source"
    assert run.mapping["Tags"] == run.mapping["TotalVisits"] == "properties"
    assert (run.status, run.counts) == (
        "done",
        {"created": 300, "updated": 0, "unchanged": 0, "rejected": 0},
    )
    won = sum(row["Converted"] == "1" for row in rows)
    assert won == 96  # the slice is what it is: a test that fails if the file changes
    assert Lead.objects.filter(stage="customer").count() == won
    lost = Lead.objects.filter(stage="disqualified")
    assert lost.count() == 300 - won
    assert set(lost.values_list("disqualify_reason", flat=True)) == {"lost"}

    second = rows[1]  # 2a272436…: Organic Search, 5 visits, 2.5 pages a visit, India, "Select"s
    lead = Lead.objects.get(external_id=second["Prospect ID"])
    assert (lead.source, lead.source_detail, lead.contact_id) == ("website", "Organic Search", None)
    assert lead.properties["TotalVisits"] == 5
    assert lead.properties["Page Views Per Visit"] == 2.5
    assert lead.properties["Lead Number"] == 660728
    assert lead.properties["Do Not Email"] is False
    assert lead.properties["Country"] == "India"
    assert lead.properties["Tags"] == "Ringing"
    assert "Specialization" not in lead.properties  # "Select": not chosen
    assert "Lead Quality" not in lead.properties  # an empty cell
    assert "Prospect ID" not in lead.properties and "Converted" not in lead.properties
    google = Lead.objects.filter(source_detail="Google")
    assert google.count() == sum(row["Lead Source"] == "Google" for row in rows) > 0
    assert set(google.values_list("source", flat=True)) == {"advertising"}
    assert (
        not Lead.objects.filter(properties__has_key="Specialization")
        .filter(properties__Specialization="Select")
        .exists()
    )

    # One transition per lead, from nowhere to its stage, when it arrived, channel "import".
    transitions = StageTransition.objects.filter(lead__in=Lead.objects.all())
    assert transitions.count() == 300
    assert set(transitions.values_list("channel", "from_stage")) == {("import", "")}
    one = transitions.get(lead=lead)
    assert (
        one.to_stage == lead.stage == ("customer" if second["Converted"] == "1" else "disqualified")
    )
    assert one.occurred_at == lead.arrived_at == lead.stage_entered_at
    assert one.actor == cast.ae
    assert lost.first().transitions.get().reason == "lost"

    again = run_file(cast.ae, slice_file)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 300, "rejected": 0}
    assert Lead.objects.count() == 300
    assert StageTransition.objects.count() == 300


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(cast: Any, slice_file: Path) -> None:
    run = run_file(cast.ae, slice_file, dry_run=True)
    assert run.status == ImportRun.Status.CHECKED
    assert run.dry_run_counts == {"created": 300, "updated": 0, "unchanged": 0, "rejected": 0}
    assert Lead.objects.count() == StageTransition.objects.count() == 0


def _small(rows: list[list[str]]) -> bytes:
    """A home-made file (no preset): its fields are suggested from the headers."""
    return csv_bytes([["Lead ID", "Lead Source", "Converted", "Email", "TotalVisits"], *rows])


@pytest.mark.django_db
def test_malformed_outcome_is_rejected_with_its_row_and_the_rest_goes_in(cast: Any) -> None:
    content = _small([["p-1", "Google", "1", "", "3"], ["p-2", "Facebook", "maybe", "", "2,5"]])
    run = run_file(cast.ae, content, keep=["TotalVisits"])
    assert run.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    rejection = run.rejections.get()
    assert rejection.row == 2
    [error] = rejection.errors
    assert (error["field"], error["column"]) == ("stage", "Converted")
    assert run.mapping == {
        "Lead ID": "external_id",
        "Lead Source": "source",
        "Converted": "stage",
        "Email": "contact_email",
        "TotalVisits": "properties",
    }
    assert "“maybe” is neither a stage" in error["message"]
    assert "won or lost" in error["message"]
    assert Lead.objects.get().external_id == "p-1"


@pytest.mark.django_db
def test_reimport_that_changes_the_outcome_moves_the_stage_and_the_contact(cast: Any) -> None:
    person = factories.contact(cast.ae, first_name="Lina", last_name="Roux", email="lina@acme.fr")
    first = run_file(
        cast.ae, _small([["p-1", "Reference", "0", "LINA@acme.fr", "2,5"]]), keep=["TotalVisits"]
    )
    assert first.counts["created"] == 1
    lead = Lead.objects.get()
    assert (lead.contact_id, lead.stage, lead.source) == (person.pk, "disqualified", "referral")
    assert lead.properties == {"TotalVisits": 2.5}  # a French decimal comma
    person.refresh_from_db()
    assert person.lifecycle_stage == "disqualified"

    changed = _small([["p-1", "Reference", "1", "lina@acme.fr", "4"]])
    second = run_file(cast.ae, changed, policy="overwrite", keep=["TotalVisits"])
    assert second.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    lead.refresh_from_db()
    assert (lead.stage, lead.disqualify_reason) == ("customer", "")
    assert lead.properties == {"TotalVisits": 4}
    moves = list(lead.transitions.order_by("id").values_list("from_stage", "to_stage"))
    assert moves == [("", "disqualified"), ("disqualified", "customer")]
    person.refresh_from_db()
    assert person.lifecycle_stage == "customer"

    # Found by the contact's email too, under another source: nothing new.
    third = run_file(cast.ae, changed, source="Another export", key="email", keep=["TotalVisits"])
    assert third.counts == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}
    assert Lead.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_lead_with_unknown_email_is_rejected_not_linked_to_someone_else(
    cast: Any,
) -> None:
    run = run_file(
        cast.ae, _small([["p-9", "", "", "nobody@nowhere.fr", ""], ["p-8", "", "", "", ""]])
    )
    assert run.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    lead = Lead.objects.get()
    assert (lead.external_id, lead.contact_id, lead.stage, lead.source) == (
        "p-8",
        None,
        "suspect",
        "",
    )
    assert "nobody@nowhere.fr" in run.rejections.get().errors[0]["message"]


@pytest.mark.django_db
def test_properties_say_their_kind_and_which_are_known_only_after_contact(
    cast: Any, slice_file: Path
) -> None:
    run_file(cast.ae, slice_file)
    found = {p.name: p for p in importing.lead_properties()}
    assert found["TotalVisits"].kind == "number"
    assert found["Do Not Email"].kind == "boolean"
    assert found["Lead Origin"].kind == "text"
    assert found["Lead Number"].seen == 300
    assert 0 < found["Specialization"].seen < 300
    leaking = {name for name, p in found.items() if p.known_after_contact}
    assert leaking == {"Tags", "Lead Quality", "Last Notable Activity"}
    assert importing.known_after_contact("lead quality")
    assert not importing.known_after_contact("TotalVisits")
    few = Lead.objects.filter(stage="customer")
    assert {p.name: p.seen for p in importing.lead_properties(few)}["Lead Number"] == 96


@pytest.mark.django_db
def test_wizard_recognises_the_x_education_preset(client: Any, cast: Any, slice_file: Path) -> None:
    run = services.upload(
        actor=cast.marketer,
        entity="leads",
        source="X Education",
        file=slice_file.read_bytes(),
        filename=slice_file.name,
    )
    client.force_login(cast.marketer)
    with translation.override("en"):
        page = client.get(reverse("imports:mapping", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-origin="preset"' in html
    assert "X Education (lead-scoring export)" in html
    upload_page = client.get(reverse("imports:upload"))
    assert '<option value="leads"' in upload_page.content.decode()


@pytest.mark.django_db
def test_cli_imports_leads_with_the_preset(cast: Any, slice_file: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import", str(slice_file), "--entity", "leads", "--source", "X Education",
        "--preset", "x_education", "--key", "external_id", "--user", "alice",
        stdout=out, stderr=err,
    )  # fmt: skip
    text = out.getvalue()
    assert "Prospect ID                    → external_id" in text
    assert "Tags                           → properties" in text
    assert "  created                        300" in text
    run = ImportRun.objects.get()
    assert (run.status, run.channel, run.entity) == ("done", "cli", "leads")
    assert Lead.objects.count() == 300
    assert StageTransition.objects.filter(channel="import").count() == 300


@pytest.mark.django_db
def test_a_contact_never_gets_a_second_live_lead_from_a_file(cast: Any) -> None:
    person = factories.contact(cast.ae, first_name="Lina", last_name="Roux", email="lina@acme.fr")
    live = Lead.objects.create(contact=person, stage="mql")
    rows = [
        ["p-1", "Google", "", "lina@acme.fr", ""],  # a second live lead: refused
        ["p-2", "Google", "1", "lina@acme.fr", ""],  # a customer: history, goes in
    ]
    checked = run_file(cast.ae, _small(rows), dry_run=True)
    assert checked.dry_run_counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    run = run_file(cast.ae, _small(rows))
    assert run.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    [error] = run.rejections.get(row=1).errors
    assert error["column"] == "Email"
    assert f"already has a live lead (id {live.pk})" in error["message"]
    assert set(person.leads.values_list("stage", flat=True)) == {"mql", "customer"}


@pytest.mark.django_db
def test_stage_label_arrival_date_and_bant_from_a_home_made_file(cast: Any) -> None:
    content = csv_bytes(
        [
            ["Lead ID", "Étape", "Date de création", "Budget", "Authority"],
            ["h-1", "Client", "25/12/2025", "Budget approved", "decision_maker"],
            ["h-2", "MQL", "", "", ""],
        ]
    )
    run = run_file(cast.ae, content)
    assert run.mapping == {
        "Lead ID": "external_id",
        "Étape": "stage",
        "Date de création": "arrived_at",
        "Budget": "budget",
        "Authority": "authority",
    }
    assert run.counts["created"] == 2
    won = Lead.objects.get(external_id="h-1")
    assert (won.stage, won.source, won.budget, won.authority) == (
        "customer", "import", "approved", "decision_maker",
    )  # fmt: skip
    assert won.arrived_at.isoformat() == "2025-12-25T00:00:00+00:00"
    assert won.transitions.get().occurred_at == won.arrived_at == won.stage_entered_at
    mql = Lead.objects.get(external_id="h-2")
    assert mql.stage == "mql" and mql.arrived_at >= run.started_at
