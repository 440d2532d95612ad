"""Subject-access export: everything held about a person, one JSON and one CSV file per kind,
with a README; for administrators and the contact's owner; audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from cible.core.errors import PermissionDenied
from cible.quality.privacy.export import contact_export
from cible.quality.privacy.models import PrivacyRequest
from tests.api.conftest import assert_error_shape
from tests.quality.privacy.conftest import GWEN, NEW_EMAIL, PROOF_IP

pytestmark = pytest.mark.django_db


def _open(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def _json(archive: zipfile.ZipFile, kind: str) -> list[dict]:
    return json.loads(archive.read(f"{kind}.json"))


def _csv(archive: zipfile.ZipFile, kind: str) -> list[dict]:
    text = archive.read(f"{kind}.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_holds_the_record_consents_history_and_a_readme(cast, gwen):
    result = contact_export(contact=gwen, actor=cast.ae, channel="ui")
    archive = _open(result.content)
    names = set(archive.namelist())
    for kind in ("contact", "consents", "consent_history", "audit_history", "privacy_requests"):
        assert {f"{kind}.json", f"{kind}.csv"} <= names
    assert "README.txt" in names

    [person] = _json(archive, "contact")
    assert (person["first_name"], person["last_name"]) == (GWEN["first_name"], GWEN["last_name"])
    assert (person["email"], person["phone"]) == (NEW_EMAIL, "+33298441234")
    assert person["organisation_name"] == "Forges de Kerhuel SAS"
    assert person["owner"] == "Alice Martin"
    assert _csv(archive, "contact")[0]["email"] == NEW_EMAIL

    consents = {(c["channel"], c["purpose_code"]): c["status"] for c in _json(archive, "consents")}
    assert consents == {("email", "marketing"): "granted", ("phone", ""): "withdrawn"}
    history = _json(archive, "consent_history")
    web_form = next(e for e in history if e["source"] == "form")
    assert (web_form["proof_form"], web_form["proof_ip"], web_form["proof_email"]) == (
        "Livre blanc CRM 2026",
        PROOF_IP,
        NEW_EMAIL,
    )
    assert "newsletter mensuelle" in web_form["proof_text"]

    audit = _json(archive, "audit_history")
    email_change = next(a for a in audit if "email" in a["changes"] and a["action"] == "changed")
    assert email_change["changes"]["email"] == [GWEN["email"], NEW_EMAIL]
    assert email_change["by"] == "Alice Martin" and email_change["channel"] == "ui"

    readme = archive.read("README.txt").decode()
    assert f"contact #{gwen.pk}" in readme and "consent_history.json" in readme
    assert result.files["consent_history"] == 2
    assert result.filename == f"subject-access-contact-{gwen.pk}-{result.filename[-17:-4]}.zip"


def test_related_records_are_found_generically(cast, gwen, meeting_model):
    meeting_model.objects.create(
        contact=gwen, subject="Visite usine", held_at=dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
    )
    archive = _open(contact_export(contact=gwen, actor=cast.admin, channel="ui").content)
    [meeting] = _json(archive, "demo_meeting")
    assert meeting["subject"] == "Visite usine" and meeting["contact_id"] == gwen.pk
    assert _csv(archive, "demo_meeting")[0]["subject"] == "Visite usine"


def test_cells_a_spreadsheet_would_run_are_defused(cast, account):
    from tests import factories

    contact = factories.contact(cast.ae, last_name="Dupont", job_title="=HYPERLINK(1)")
    archive = _open(contact_export(contact=contact, actor=cast.ae, channel="ui").content)
    assert _csv(archive, "contact")[0]["job_title"] == "'=HYPERLINK(1)"
    assert _json(archive, "contact")[0]["job_title"] == "=HYPERLINK(1)"


def test_the_export_tells_the_person_their_buying_role(cast, account):
    from tests import factories

    contact = factories.contact(cast.ae, last_name="Dupont", buying_role="economic_buyer")
    archive = _open(contact_export(contact=contact, actor=cast.ae, channel="ui").content)
    assert _json(archive, "contact")[0]["buying_role"] == "economic_buyer"
    assert _csv(archive, "contact")[0]["buying_role"] == "economic_buyer"


def test_each_export_is_audited_without_personal_data(cast, gwen):
    contact_export(contact=gwen, actor=cast.admin, channel="api")
    request = PrivacyRequest.objects.get(kind="export")
    assert (request.contact_ref, request.actor, request.channel) == (gwen.pk, cast.admin, "api")
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_pk=str(gwen.pk))
    assert entry.actor == cast.admin and entry.additional_data["channel"] == "api"
    assert GWEN["last_name"] not in entry.object_repr


def test_owner_and_admins_export_others_may_not(cast, gwen, client_for):
    for allowed in (cast.ae, cast.admin):
        response = client_for(allowed).get(reverse("privacy:contact_export", args=[gwen.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert "attachment" in response["Content-Disposition"]
    for refused in (cast.ae2, cast.marketer):  # may see her, but she is not theirs
        with pytest.raises(PermissionDenied):
            contact_export(contact=gwen, actor=refused, channel="ui")
        response = client_for(refused).get(reverse("privacy:contact_export", args=[gwen.pk]))
        assert response.status_code == 302
    assert PrivacyRequest.objects.filter(kind="export").count() == 2


def test_outsiders_do_not_even_find_the_contact(cast, gwen, team_private, client_for, api_for):
    response = client_for(cast.outsider).get(reverse("privacy:contact_export", args=[gwen.pk]))
    assert response.status_code == 404
    assert_error_shape(api_for(cast.outsider).get(f"/privacy/contacts/{gwen.pk}/export"), 404)


def test_the_api_downloads_the_same_zip(cast, gwen, api_for):
    response = api_for(cast.ae).get(f"/privacy/contacts/{gwen.pk}/export")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert _json(_open(response.content), "contact")[0]["email"] == NEW_EMAIL
    assert PrivacyRequest.objects.get(kind="export").channel == "api"
    assert_error_shape(api_for(cast.ae2).get(f"/privacy/contacts/{gwen.pk}/export"), 403)
