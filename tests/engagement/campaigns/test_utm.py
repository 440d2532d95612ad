"""UTM values and tagged links: pure functions, no database."""

from __future__ import annotations

import pytest

from cible.core.normalisers import NormalisationError
from cible.engagement.campaigns.utm import landing_url, missing_for_link, tagged_url, utm_value


@pytest.mark.parametrize("raw", ["linkedin", "paid-social", "crm_2026.v2", "  Google  "])
def test_plain_values_are_kept(raw: str) -> None:
    assert utm_value(raw, field="utm_source") == raw.strip()


@pytest.mark.parametrize("raw", ["salon crm", "été", "a&b=c", "x" * 101, "50%"])
def test_values_analytics_would_mangle_are_refused(raw: str) -> None:
    with pytest.raises(NormalisationError) as error:
        utm_value(raw, field="utm_campaign")
    assert error.value.field == "utm_campaign"


def test_the_link_replaces_old_tags_and_keeps_the_rest() -> None:
    url = landing_url("example.com/offre?lang=fr&utm_medium=old#inscription")
    tagged = tagged_url(url, {"utm_source": "salon", "utm_medium": "qr", "utm_campaign": "crm"})
    assert tagged == (
        "https://example.com/offre?lang=fr&utm_source=salon&utm_medium=qr&utm_campaign=crm"
        "#inscription"
    )


@pytest.mark.parametrize("raw", ["", "ftp://example.com/x", "localhost", "https://"])
def test_landing_pages_must_be_web_addresses(raw: str) -> None:
    with pytest.raises(NormalisationError):
        landing_url(raw)


def test_missing_tags_are_named() -> None:
    assert missing_for_link({"utm_source": "x", "utm_medium": "", "utm_campaign": ""}) == [
        "utm_medium",
        "utm_campaign",
    ]
