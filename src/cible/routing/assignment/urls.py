from django.urls import path

from cible.routing.assignment import views

app_name = "routing"

urlpatterns = [
    path("", views.rules_view, name="rules"),
    path("rules/new/", views.rule_edit_view, name="rule_new"),
    path("rules/simulate/", views.simulate_view, name="simulate"),
    path("rules/<int:pk>/", views.rule_edit_view, name="rule_edit"),
    path("rules/<int:pk>/<str:action>/", views.rule_action_view, name="rule_action"),
    path("settings/", views.settings_view, name="settings"),
    path("members/", views.members_view, name="members"),
    path("members/<int:pk>/", views.member_update_view, name="member_update"),
    path("assignments/", views.assignments_view, name="assignments"),
]
