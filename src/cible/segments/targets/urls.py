from django.urls import path

from cible.segments.targets import views

app_name = "targets"

urlpatterns = [
    path("", views.target_list_view, name="list"),
    path("new/", views.target_create_view, name="create"),
    path("count/", views.target_count_view, name="count"),
    path("<int:pk>/", views.target_detail_view, name="detail"),
    path("<int:pk>/edit/", views.target_edit_view, name="edit"),
    path("<int:pk>/delete/", views.target_delete_view, name="delete"),
    path("<int:pk>/duplicate/", views.target_duplicate_view, name="duplicate"),
    path("<int:pk>/export.csv", views.target_export_view, name="export"),
    path("<int:pk>/count/", views.target_saved_count_view, name="saved_count"),
]
