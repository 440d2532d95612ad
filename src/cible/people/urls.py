from django.urls import include, path

from cible.people import views

app_name = "people"
urlpatterns = [
    path("language/", views.language_view, name="language"),
    path("organisations/lookup/", views.organisation_lookup, name="organisation_lookup"),
    path("contacts/lookup/", views.contact_lookup, name="contact_lookup"),
    path("organisations/", include(views.ORGANISATION_PAGES.urls())),
    path("contacts/", include(views.CONTACT_PAGES.urls())),
]
