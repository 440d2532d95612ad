from django.urls import path

from cible.quality.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.upload, name="upload"),
    path("<int:pk>/", views.run_detail, name="detail"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/check/", views.check, name="check"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/errors.csv", views.error_file, name="error_file"),
]
