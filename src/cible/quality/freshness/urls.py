from django.urls import path

from cible.quality.freshness import views

app_name = "freshness"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("refresh/", views.refresh_view, name="refresh"),
    path("snapshot/", views.snapshot_view, name="snapshot"),
    path("rules/", views.policy_view, name="policy"),
    path("stale/<str:entity>/", views.stale_list_view, name="stale"),
    path("stale/<str:entity>/verify/", views.stale_verify_view, name="stale_verify"),
    path("stale/<str:entity>/tasks/", views.tasks_create_view, name="tasks_create"),
    path("tasks/", views.my_tasks_view, name="my_tasks"),
    path("tasks/<int:pk>/<str:action>/", views.task_action_view, name="task_action"),
]
