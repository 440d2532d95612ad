from django.urls import path

from cible.engagement.interactions import views

app_name = "interactions"

urlpatterns = [
    path(
        "contacts/<int:pk>/",
        views.timeline_view,
        {"entity": "contact"},
        name="contact_timeline",
    ),
    path("contacts/<int:pk>/more/", views.more_view, {"entity": "contact"}, name="contact_more"),
    path("contacts/<int:pk>/log/", views.log_view, {"entity": "contact"}, name="contact_log"),
    path(
        "organisations/<int:pk>/",
        views.timeline_view,
        {"entity": "organisation"},
        name="organisation_timeline",
    ),
    path(
        "organisations/<int:pk>/more/",
        views.more_view,
        {"entity": "organisation"},
        name="organisation_more",
    ),
    path(
        "organisations/<int:pk>/log/",
        views.log_view,
        {"entity": "organisation"},
        name="organisation_log",
    ),
]
