from __future__ import annotations

import csv
import io

import pytest

from cible.core.csv_export import neutralise
from tests import factories


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("-12.5", "-12.5"),
        ("Acme", "Acme"),
        (None, ""),
    ],
)
def test_formulas_are_neutralised(cell, written):
    assert neutralise(cell) == written


@pytest.mark.django_db
def test_exported_file_escapes_formulas_and_keeps_accents(cast, client_for):
    factories.organisation(cast.ae, legal_name="=cmd|' /C calc'!A0", city="Besançon")
    response = client_for(cast.ae).get("/organisations/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    assert "Besançon" in rows[1]


@pytest.mark.django_db
def test_html_in_fields_is_escaped_on_pages(cast, client_for):
    org = factories.organisation(cast.ae, legal_name="<script>alert(1)</script>", city="<b>x</b>")
    client = client_for(cast.ae)
    for url in [
        "/organisations/",
        f"/organisations/{org.pk}/",
        f"/organisations/{org.pk}/history/",
        "/search/?q=%3Cscript",
    ]:
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page, url
        assert "<b>x</b>" not in page, url
