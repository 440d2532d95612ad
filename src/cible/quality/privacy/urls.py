from django.urls import path

from cible.quality.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("contacts/<int:pk>/", views.section_view, name="contact_section"),
    path("contacts/<int:pk>/consents/", views.consent_record_view, name="consent_record"),
    path("contacts/<int:pk>/export/", views.export_view, name="contact_export"),
    path("contacts/<int:pk>/erase/", views.erase_view, name="contact_erase"),
    path("rules/new/", views.rule_edit_view, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit_view, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete_view, name="rule_delete"),
    path("rules/<int:pk>/dry-run/", views.rule_dry_run_view, name="rule_dry_run"),
    path("rules/<int:pk>/run/", views.rule_run_view, name="rule_run"),
    path("requests/<int:pk>/", views.request_detail_view, name="request_detail"),
    path("purposes/", views.purposes_view, name="purposes"),
    path("purposes/<int:pk>/", views.purposes_view, name="purpose_edit"),
]
