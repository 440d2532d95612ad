"""The UI speaks French and English: the catalogs are complete, compiled, and used.

Source strings are English; the French catalog must translate every one of them (an
untranslated or fuzzy entry silently shows English to a French user). The compiled .mo
files are committed, so they must match the .po files they come from.
"""

from __future__ import annotations

import gettext as gnu_gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, ngettext

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
CATALOG = "LC_MESSAGES/django"


# --------------------------------------------------------------------------- a tiny .po parser


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]

    @property
    def key(self) -> str:
        """The msgid as a compiled catalog knows it: "context\x04msgid" under a msgctxt."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file (obsolete "#~" entries are skipped), header first."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def flush() -> None:
        nonlocal current, target
        if current is not None and target is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = Entry(line=number)
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if keyword.startswith("msgstr") and index is not None:
                target = ("msgstr_plural", int(index))
                current.msgstr_plural[int(index)] = value
            else:
                target = (keyword, None)
                setattr(current, keyword, value)
            continue
        assert line.startswith('"') and target is not None, f"{path}:{number}: {raw!r}"
        name, index = target
        if name == "msgstr_plural":
            assert index is not None
            current.msgstr_plural[index] += _unquote(line)
        else:
            setattr(current, name, getattr(current, name) + _unquote(line))
    flush()
    return entries


def _messages(language: str) -> list[Entry]:
    return [e for e in parse_po(LOCALE_DIR / language / f"{CATALOG}.po") if e.msgid]


def _where(entry: Entry) -> str:
    context = f" ({entry.msgctxt})" if entry.msgctxt is not None else ""
    return f"line {entry.line}: {entry.msgid!r}{context}"


# Python-format placeholders, template variables and HTML tags (not "<token>"-style text).
_PLACEHOLDER = re.compile(
    r"%\([^)]+\)[sdif]|%%|\{\{\s*[\w.]+\s*\}\}|</?(?:a|b|br|code|em|i|kbd|span|strong)\b[^>]*>"
)


def _placeholders(text: str) -> list[str]:
    return sorted(re.sub(r"\s+", "", p) for p in _PLACEHOLDER.findall(text))


# --------------------------------------------------------------------------- catalogs


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_each_language_has_a_catalog_and_its_compiled_form(language):
    assert (LOCALE_DIR / language / f"{CATALOG}.po").is_file()
    assert (LOCALE_DIR / language / f"{CATALOG}.mo").is_file()


def test_the_french_catalog_is_not_empty():
    assert len(_messages("fr")) > 300


def test_every_french_entry_is_translated():
    untranslated = [_where(e) for e in _messages("fr") if not all(e.translations)]
    assert untranslated == []


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_no_entry_is_fuzzy(language):
    """msgfmt drops fuzzy entries: the user would silently get English."""
    entries = parse_po(LOCALE_DIR / language / f"{CATALOG}.po")
    fuzzy = [_where(e) for e in entries if "fuzzy" in e.flags]  # the header included
    assert fuzzy == []


def test_french_plurals_have_both_forms():
    plurals = [e for e in _messages("fr") if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr_plural) == [0, 1], _where(entry)


def test_french_translations_keep_every_placeholder():
    changed = [
        _where(e)
        for e in _messages("fr")
        for text in e.translations
        if _placeholders(text) != _placeholders(e.msgid)
    ]
    assert changed == []


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_compiled_catalog_matches_its_source(language):
    """The .mo files are committed: they must be recompiled whenever the .po changes."""
    with (LOCALE_DIR / language / f"{CATALOG}.mo").open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)
    catalog = compiled._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in _messages(language):
        if entry.msgid_plural is None:
            if entry.msgstr and catalog.get(entry.key) != entry.msgstr:
                stale.append(_where(entry))
        else:
            for index, text in entry.msgstr_plural.items():
                if text and catalog.get((entry.key, index)) != text:
                    stale.append(_where(entry))
    assert stale == [], "run `django-admin compilemessages` in src/cible"


# --------------------------------------------------------------------------- gettext at runtime


def test_strings_are_french_when_french_is_active():
    from cible.core.roles import Role
    from cible.pipeline.models import Stage

    with translation.override("fr"):
        assert gettext("Opportunities") == "Opportunités"
        assert gettext("Log out") == "Se déconnecter"
        assert gettext("Organisations") == "Organisations"
        assert str(Role.AE.label) == "Chargé d'affaires (AE)"
        assert str(Stage.WON.label) == "7. Gagnée"
        assert ngettext("%(n)s result", "%(n)s results", 1) % {"n": 1} == "1 résultat"
        assert ngettext("%(n)s result", "%(n)s results", 3) % {"n": 3} == "3 résultats"
        assert gettext("This record has been deleted by someone else.") == (
            "Cette fiche a été supprimée par quelqu'un d'autre."
        )


def test_strings_stay_english_when_english_is_active():
    with translation.override("en"):
        assert gettext("Opportunities") == "Opportunities"
        assert gettext("Log out") == "Log out"


# --------------------------------------------------------------------------- pages


@pytest.mark.django_db
def test_a_page_speaks_the_language_of_the_users_profile(cast, client_for):
    assert cast.ae.profile.language == "fr"
    assert cast.marketer.profile.language == "en"
    # The language middleware activates the profile's language for the rest of the thread:
    # the override puts the previous state back afterwards.
    with translation.override("fr"):
        french = client_for(cast.ae).get("/")
        english = client_for(cast.marketer).get("/")
    assert french.status_code == english.status_code == 200
    french_page = french.content.decode()
    english_page = english.content.decode()
    assert '<html lang="fr">' in french_page
    assert "Se déconnecter" in french_page
    assert "Log out" not in french_page
    assert "Opportunités" in french_page
    assert '<html lang="en">' in english_page
    assert "Log out" in english_page
    assert "Se déconnecter" not in english_page


# --------------------------------------------------------------------------- validation messages


def test_normaliser_messages_are_french_when_french_is_active():
    from cible.core import normalisers
    from cible.core.normalisers import NormalisationError

    with translation.override("fr"), pytest.raises(NormalisationError) as caught:
        normalisers.siren("123")
    assert caught.value.field == "siren"
    assert (
        caught.value.message
        == "«\u00a0123\u00a0» n'est pas un SIREN valide\u00a0: 9 chiffres attendus"
    )
    with translation.override("fr"), pytest.raises(NormalisationError) as caught:
        normalisers.siren("732 829 321")
    assert "clé de contrôle" in caught.value.message
    with translation.override("en"), pytest.raises(NormalisationError) as caught:
        normalisers.siren("123")
    assert caught.value.message == "“123” is not a valid SIREN: 9 digits expected"


def test_email_messages_leave_no_english_behind_in_french():
    from cible.core import normalisers
    from cible.core.normalisers import NormalisationError

    with translation.override("fr"), pytest.raises(NormalisationError) as caught:
        normalisers.email("jean")
    assert caught.value.message == (
        "«\u00a0jean\u00a0» n'est pas une adresse e-mail valide\u00a0: il manque l'arobase (@)"
    )
    # A problem the email library words in a way we do not know: a plain French sentence.
    with translation.override("fr"), pytest.raises(NormalisationError) as caught:
        normalisers.email("jean\uff20example.fr")
    assert (
        caught.value.message
        == "«\u00a0jean\uff20example.fr\u00a0» n'est pas une adresse e-mail valide"
    )
    with translation.override("en"), pytest.raises(NormalisationError) as caught:
        normalisers.email("jean\uff20example.fr")
    assert "at-sign" in caught.value.message


def test_value_parser_messages_are_french_when_french_is_active():
    from cible.core import values
    from cible.core.normalisers import NormalisationError

    with translation.override("fr"):
        with pytest.raises(NormalisationError) as caught:
            values.amount("abc", field="x")
        assert caught.value.message == "«\u00a0abc\u00a0» n'est pas un montant"
        with pytest.raises(NormalisationError) as caught:
            values.date("31/02/2026", field="closed_on")
        assert "utilisez AAAA-MM-JJ ou JJ/MM/AAAA" in caught.value.message
        with pytest.raises(NormalisationError) as caught:
            values.whole_number("250", field="probability", maximum=100)
        assert caught.value.message == "250 est hors limites (de 0 à 100)"


def test_record_rules_and_codes_speak_french():
    from cible.core import nace
    from cible.core.audit import ACTION_LABELS, Channel
    from cible.people.models import HeadcountBand
    from cible.people.normalise import clean_organisation

    with translation.override("fr"):
        with pytest.raises(nace.NaceCodeInvalid) as caught:
            nace.parse_naf("00.00Z")
        assert str(caught.value) == (
            "«\u00a000.00Z\u00a0» n'est pas un code NAF/NACE\u00a0: la division 00 n'existe pas"
        )
        cleaned = clean_organisation({"colour": "blue", "headcount": "beaucoup"})
        messages = {error.field: error.message for error in cleaned.errors}
        assert messages == {
            "colour": "n'est pas un champ modifiable",
            "headcount": "«\u00a0beaucoup\u00a0» n'est pas un nombre entier",
        }
        assert str(HeadcountBand.B1000_4999.label) == "1\u00a0000–4\u00a0999"
        assert str(HeadcountBand.B5000.label) == "5\u00a0000+"
        assert str(Channel.CLI.label) == "Ligne de commande"
        assert [str(label) for label in ACTION_LABELS.values()] == [
            "créée",
            "modifiée",
            "supprimée",
            "exportée",
        ]
        assert gettext("created") == "créé le"  # created_at's label keeps its own translation
