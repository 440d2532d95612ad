"""Make docs/screenshot.png, the organisation list shown in the README.

Not a test (no ``test_`` prefix): run it by hand when the list page changes::

    .venv/bin/python tests/browser/make_screenshot.py [--language en|fr] [--out PATH]

It builds a throwaway SQLite database in a temporary folder (the real ``var/`` is untouched),
creates the test cast and 30 organisations with realistic French names through the services,
serves the app on a free port, signs in as the administrator (Ada) through the login form and
saves a 1400×900 screenshot of the organisation list. Chromium is Debian's, as for the browser
tests (``CIBLE_TEST_CHROMIUM``, default ``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# legal name|trade name|postal code|city|headcount|NAF code|status|tier|owner
ORGANISATIONS = """
Ateliers Dubois SAS||75011|Paris|48|2511Z|customer|gold|alice
Boulangeries Mercier||69002|Lyon|120|1071C|prospect||olivier
Cabinet Rousseau & Associés|Cabinet Rousseau|33000|Bordeaux|35|6920Z|customer|silver|basile
Chocolaterie Fontaine SARL||67000|Strasbourg|22|1082Z|suspect||sophie
Compagnie des Transports Lefebvre|Transports Lefebvre|59000|Lille|640|4941A|prospect||alice
Conseil Girard Partenaires||92100|Boulogne-Billancourt|85|7022Z|customer|gold|basile
Distribution Électrique du Centre|DEC|63000|Clermont-Ferrand|310|4669A|prospect||alice
Domaine Chevalier Vins et Spiritueux|Domaine Chevalier|51100|Reims|18|1102A|customer|bronze|olivier
Éditions Lambert||75006|Paris|56|5811Z|former_customer||sophie
Fromageries Perrin||74000|Annecy|230|1051C|prospect||olivier
Garnier Menuiserie Industrielle|Garnier Menuiserie|44000|Nantes|140|1623Z|customer|silver|alice
Groupe Hospitalier Sainte-Marthe||84000|Avignon|2100|8610Z|prospect||basile
Imprimerie Moreau||35000|Rennes|27|1812Z|suspect||sophie
Institut de Formation Roux|IFR|31000|Toulouse|64|8559A|customer|bronze|olivier
Laboratoires Fournier Santé||21000|Dijon|870|2120Z|prospect||alice
Logistique Bertrand Sud-Ouest||64100|Bayonne|410|5210B|partner||basile
Maison Lemoine Textiles||59100|Roubaix|95|1392Z|customer|silver|olivier
Mécanique de Précision Vidal|MPV|42000|Saint-Étienne|175|2562B|prospect||alice
Mutuelle Régionale de l'Ouest||49000|Angers|1300|6512Z|customer|gold|basile
Nexalis Informatique|Nexalis|13008|Marseille|42|6201Z|prospect||sophie
Papeteries Blanchard||38000|Grenoble|260|1712Z|former_customer||olivier
Pharmacie Centrale Morel||06000|Nice|12|4773Z|suspect||sophie
Plastiques Industriels Faure||01000|Bourg-en-Bresse|190|2229A|prospect||alice
Quincaillerie Bonnet Frères||57000|Metz|31|4674A|customer|bronze|basile
Robert Énergies Renouvelables|Robert EnR|34000|Montpellier|76|3511Z|prospect||olivier
Scierie Guérin||88000|Épinal|54|1610A|suspect||alice
Société Nouvelle des Eaux Legrand|Eaux Legrand|45000|Orléans|3400|3600Z|customer|gold|basile
Studio Muller Architecture||68100|Mulhouse|9|7111Z|prospect||sophie
Tuileries André||37000|Tours|150|2332Z|partner||olivier
Verrerie Chevalier||76000|Rouen|520|2313Z|customer|silver|alice
"""


def _siren(seed: int) -> str:
    """A SIREN that passes the check digit: 8 digits derived from the seed, then Luhn."""
    from stdnum import luhn

    body = f"{(seed * 7_919_113 + 41_220_017) % 90_000_000 + 10_000_000:08d}"
    return body + luhn.calc_check_digit(body)


def _domain(name: str) -> str:
    from cible.core.normalisers import search_key

    small = {"sas", "sarl", "et", "de", "des", "du", "l", "s"}
    words = [w for w in search_key(name).split() if w not in small]
    return "-".join(words[:2]) + ".fr"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", choices=["en", "fr"], default="en")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    workdir = tempfile.TemporaryDirectory(prefix="cible-screenshot-")
    os.environ["CIBLE_VAR_DIR"] = workdir.name
    os.environ["CIBLE_DATABASE_URL"] = f"sqlite:///{Path(workdir.name) / 'screenshot.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cible.settings")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

    import django

    django.setup()

    from django.core.management import call_command
    from django.test.testcases import LiveServerThread, _StaticFilesHandler
    from playwright.sync_api import sync_playwright

    from cible.people.models import UserProfile
    from tests import factories
    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
    from tests.cast import PASSWORD, make_cast

    call_command("migrate", verbosity=0, interactive=False)
    cast = make_cast()
    users = {u.username: u for u in (cast.ae, cast.ae2, cast.sdr, cast.outsider)}
    rows = [line.split("|") for line in ORGANISATIONS.strip().splitlines()]
    for i, (legal, trade, postal, city, headcount, naf, status, tier, owner) in enumerate(rows):
        factories.organisation(
            users[owner],
            legal_name=legal,
            trade_name=trade,
            siren=_siren(i),
            postal_code=postal,
            city=city,
            country="FR",
            headcount=headcount,
            naf_code=naf,
            status=status,
            tier=tier,
            website=_domain(trade or legal),
        )
    UserProfile.objects.filter(user=cast.admin).update(language=args.language)

    server = LiveServerThread("localhost", _StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base_url = f"http://localhost:{server.port}"

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            context = browser.new_context(
                viewport={"width": 1400, "height": 900},
                locale="fr-FR" if args.language == "fr" else "en-GB",
                timezone_id="Europe/Paris",
                base_url=base_url,
            )
            page = context.new_page()
            page.goto("/login/")
            page.fill("input[name=username]", cast.admin.username)
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.goto("/organisations/")
            page.wait_for_selector("#record-table tbody tr:nth-child(25)")
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(out))
            browser.close()
    finally:
        server.terminate()
        workdir.cleanup()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
