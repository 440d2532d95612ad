from django.urls import include, path

from cible.people import directory_views, views

app_name = "people"
urlpatterns = [
    path("language/", views.language_view, name="language"),
    path("settings/teams/", directory_views.directory_view, name="directory"),
    path("settings/teams/new/", directory_views.team_edit_view, name="team_create"),
    path("settings/teams/<int:pk>/", directory_views.team_edit_view, name="team_edit"),
    path("settings/users/new/", directory_views.user_create_view, name="user_create"),
    path("settings/users/<int:pk>/", directory_views.user_edit_view, name="user_edit"),
    path("organisations/lookup/", views.organisation_lookup, name="organisation_lookup"),
    path("contacts/lookup/", views.contact_lookup, name="contact_lookup"),
    path("organisations/", include(views.ORGANISATION_PAGES.urls())),
    path("contacts/", include(views.CONTACT_PAGES.urls())),
]
