from django.urls import path

from cible.routing.sla import views

app_name = "sla"

urlpatterns = [
    path("queue/", views.queue_view, name="queue"),
    path("queue/<int:pk>/accept/", views.accept_view, name="accept"),
    path("queue/<int:pk>/reject/", views.reject_view, name="reject"),
    path("queue/<int:pk>/reviewed/", views.reviewed_view, name="reviewed"),
    path("sla/compliance/", views.compliance_view, name="compliance"),
    path("sla/", views.settings_view, name="settings"),
    path("sla/policies/new/", views.policy_edit_view, name="policy_new"),
    path("sla/policies/<int:pk>/", views.policy_edit_view, name="policy_edit"),
    path("sla/calendars/new/", views.calendar_edit_view, name="calendar_new"),
    path("sla/calendars/<int:pk>/", views.calendar_edit_view, name="calendar_edit"),
]
