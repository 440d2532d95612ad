"""Teams and users: everyone sees the directory; only administrators change it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.people.models import Team
from cible.people.services import team_save, user_update

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_directory_lists_teams_members_and_roles(cast, client_for):
    page = client_for(cast.sdr).get("/settings/teams/").content.decode()
    assert "AE Paris" in page and "Alice Martin" in page and "Sam Manager" in page
    assert "/settings/users/new/" not in page


def test_admin_adds_a_user_who_can_then_log_in(cast, client_for):
    response = client_for(cast.admin).post(
        "/settings/users/new/",
        {
            "username": "nina",
            "first_name": "nina",
            "last_name": "BERNARD",
            "email": "Nina@Cible.fr",
            "password": "a long password",
            "role": "sdr",
            "teams": [str(cast.paris.pk)],
        },
    )
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert (nina.first_name, nina.last_name, nina.email) == ("Nina", "Bernard", "nina@cible.fr")
    assert nina.profile.role == "sdr" and list(nina.profile.teams.all()) == [cast.paris]
    assert client_for(nina).get("/").status_code == 200


def test_duplicate_username_and_short_password_are_named(cast, client_for):
    response = client_for(cast.admin).post(
        "/settings/users/new/", {"username": "Alice", "password": "short", "role": "ae"}
    )
    page = response.content.decode()
    assert 'data-field="username"' in page and 'data-field="password"' in page


def test_non_admins_cannot_manage_users_or_teams(cast, client_for):
    client = client_for(cast.manager)
    assert client.get("/settings/users/new/").status_code == 404
    assert client.post(f"/settings/users/{cast.ae.pk}/", {"role": "admin"}).status_code == 404
    with pytest.raises(PermissionDenied):
        team_save(actor=cast.manager, channel="ui", name="Mine")


def test_admin_changes_role_and_teams(cast):
    user_update(
        actor=cast.admin,
        channel="ui",
        user=cast.outsider,
        role="sales_manager",
        teams=[cast.paris, cast.lyon],
        is_active=True,
        sees_deal_amounts=False,
    )
    cast.outsider.profile.refresh_from_db()
    assert cast.outsider.profile.role == "sales_manager"
    assert set(cast.outsider.profile.teams.all()) == {cast.paris, cast.lyon}


def test_admin_cannot_lock_themselves_out(cast):
    with pytest.raises(ValidationFailed):
        user_update(
            actor=cast.admin,
            channel="ui",
            user=cast.admin,
            role="ae",
            teams=[],
            is_active=True,
            sees_deal_amounts=False,
        )


def test_team_names_are_unique(cast):
    with pytest.raises(ValidationFailed):
        team_save(actor=cast.admin, channel="ui", name="ae paris")
    team = team_save(
        actor=cast.admin, channel="ui", name="  CS   Grands comptes ", manager=cast.csm
    )
    assert Team.objects.get(pk=team.pk).name == "CS Grands comptes"
