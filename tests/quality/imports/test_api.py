"""/api/v1/imports: send a file, follow the run, start, cancel, fetch the error file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cible.core.services import api_token_create
from cible.people.models import Organisation
from cible.quality.imports.models import ImportRun
from tests.factories import organisation
from tests.quality.imports.engine_support import csv_bytes, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db
BASE = "/api/v1/imports"
MARTIN, ACME = "356000000", "552100554"
FILE = csv_bytes(
    [
        ["Raison sociale", "SIREN", "Téléphone"],
        ["Boulangerie Martin", MARTIN, "01 42 68 53 00"],
        ["Acme", ACME, "04 72 00 00 00"],
        ["Mauvais", "123", ""],
    ]
)


class Api:
    def __init__(self, user: Any) -> None:
        _token, key = api_token_create(user=user, name="tests")
        self.client = Client(headers={"Accept-Language": "en", "Authorization": f"Bearer {key}"})

    def send(self, content: bytes = FILE, name: str = "comptes.csv", **fields: Any) -> Any:
        data = {"entity": "organisations", "source": "Registre", **fields}
        data["file"] = SimpleUploadedFile(name, content, content_type="text/csv")
        return self.client.post(BASE, data=data)

    def get(self, path: str = "", **params: Any) -> Any:
        return self.client.get(BASE + path, data=params)

    def post(self, path: str) -> Any:
        return self.client.post(BASE + path, content_type="application/json")


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "errors"}
    return body


def test_send_a_file_then_follow_the_run(cast: Any) -> None:
    api = Api(cast.ae)
    organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    response = api.send(key="siren", policy="overwrite")

    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["status"] == "done"  # tasks run inline in tests; a worker does it otherwise
    assert sent["mapping"] == {
        "Raison sociale": "legal_name",
        "SIREN": "siren",
        "Téléphone": "phone",
    }
    assert sent["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert sent["changes"] == {"phone": 2}
    followed = api.get(f"/{sent['uuid']}").json()
    assert (followed["progress"], followed["rows_done"], followed["rows_total"]) == (100, 3, 3)
    assert ImportRun.objects.get().channel == "api"

    errors = api.get(f"/{sent['uuid']}/errors")
    assert errors.status_code == 200
    assert errors["Content-Type"] == "text/csv; charset=utf-8"
    text = errors.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "Raison sociale;SIREN;Téléphone;error"
    assert text.splitlines()[1].startswith("Mauvais;123;;SIREN: ")
    rejections = api.get(f"/{sent['uuid']}/rejections").json()
    assert [r["row"] for r in rejections] == [3]
    assert rejections[0]["message"].startswith("SIREN: ")


def test_dry_run_then_start(cast: Any) -> None:
    api = Api(cast.ae)
    mapping = json.dumps({"Raison sociale": "legal_name", "SIREN": "siren", "Téléphone": None})
    sent = api.send(dry_run="true", mapping=mapping, key="siren").json()
    assert sent["status"] == "checked"
    assert sent["dry_run_counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert not Organisation.objects.exists()

    started = api.post(f"/{sent['uuid']}/start").json()
    assert started["status"] == "done"
    assert Organisation.objects.get(siren=MARTIN).phone == ""  # the column was left out
    listed = api.get().json()
    assert [item["uuid"] for item in listed["items"]] == [sent["uuid"]]


def test_cancel_a_checked_run(cast: Any) -> None:
    api = Api(cast.ae)
    sent = api.send(dry_run="true", key="siren").json()
    cancelled = api.post(f"/{sent['uuid']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    again = api.post(f"/{sent['uuid']}/cancel")  # cancelling twice is harmless
    assert (again.status_code, again.json()["status"]) == (200, "cancelled")


def test_bad_input_answers_422_in_the_api_shape(cast: Any) -> None:
    api = Api(cast.ae)
    body = error_of(api.send(content=b""), 422)
    assert body["errors"] == [{"field": "file", "message": "The file is empty."}]
    body = error_of(api.send(mapping="{not json", key="siren"), 422)
    assert body["errors"][0]["field"] == "mapping"
    body = error_of(
        api.send(mapping=json.dumps({"SIREN": "siren", "Fax": "phone"}), key="siren"), 422
    )
    assert {"field": "mapping", "message": "the file has no column “Fax”"} in body["errors"]
    body = error_of(api.send(entity="planets"), 422)
    assert body["errors"][0]["field"] == "entity"
    assert not ImportRun.objects.exists()  # nothing half-made stays behind


def test_a_user_who_may_not_create_organisations_gets_403(cast: Any) -> None:
    nobody = get_user_model().objects.create_user("nobody", password="x" * 12)  # no role
    body = error_of(Api(nobody).send(key="siren"), 403)
    assert body["detail"] == "You may not import organisations."


def test_another_users_run_is_404_but_admins_see_it(cast: Any) -> None:
    sent = Api(cast.ae).send(dry_run="true", key="siren").json()
    other = Api(cast.ae2)
    error_of(other.get(f"/{sent['uuid']}"), 404)
    error_of(other.post(f"/{sent['uuid']}/start"), 404)
    error_of(other.get(f"/{sent['uuid']}/errors"), 404)
    assert other.get().json()["items"] == []
    assert Api(cast.admin).get(f"/{sent['uuid']}").status_code == 200


def test_without_a_token_401(db: Any) -> None:
    error_of(Client().get(BASE), 401)


def test_cible_serve_runs_imports_in_its_background_consumer(tmp_path: Any) -> None:
    """The request that sends the file returns at once; the consumer `cible serve` started
    beside gunicorn does the import, and the run is followed until it is done."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "CIBLE_VAR_DIR": str(tmp_path / "var"),
        "CIBLE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    }
    env.pop("CIBLE_TASKS_IMMEDIATE", None)
    cible = [sys.executable, "-m", "cible.cli"]
    assert subprocess.run([*cible, "migrate", "-v0"], env=env).returncode == 0
    made = subprocess.run(
        [
            *cible,
            "shell",
            "-c",
            "from cible.people.services import user_create\n"
            "from cible.core.services import api_token_create\n"
            "user = user_create(username='ada', password=None, role='admin')\n"
            "print('KEY=' + api_token_create(user=user, name='t')[1])",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    key = next(line[4:] for line in made.stdout.splitlines() if line.startswith("KEY="))
    server = subprocess.Popen(
        [*cible, "serve", "--port", str(port), "--workers", "1", "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1/imports"
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sent = requests.post(
                    base,
                    headers=headers,
                    data={"entity": "organisations", "source": "Registre", "key": "siren"},
                    files={"file": ("comptes.csv", FILE, "text/csv")},
                    timeout=10,
                )
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert sent.status_code == 201, sent.text
        # Queued, not run in the request (tasks are not immediate here): the consumer runs it.
        assert sent.json()["status"] in ("running", "done")
        url = f"{base}/{sent.json()['uuid']}"
        while (run := requests.get(url, headers=headers, timeout=10).json())["status"] == "running":
            assert time.monotonic() < deadline, run
            time.sleep(0.3)
        assert run["status"] == "done"
        assert run["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    finally:
        server.terminate()
        server.wait(timeout=30)
