from django.urls import path

from cible.engagement.tasks import views

app_name = "tasks"

urlpatterns = [
    path("tasks/", views.task_list_view, name="list"),
    path("tasks/new/", views.task_create_view, name="create"),
    path("tasks/<int:pk>/complete/", views.task_complete_view, name="complete"),
    path(
        "tasks/<entity>/<int:pk>/new/",
        views.record_task_create_view,
        name="record_create",
    ),
    path("notifications/", views.notification_list_view, name="notifications"),
    path("notifications/read/", views.notification_read_view, name="notifications_read"),
    path("notifications/<int:pk>/", views.notification_open_view, name="notification_open"),
]
