from django.urls import path

from cible.lifecycle.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.model_list_view, name="list"),
    path("new/", views.model_create_view, name="create"),
    path("rescore/", views.rescore_view, name="rescore"),
    path("preview/", views.preview_view, name="preview"),
    path("leads/lookup/", views.lead_lookup_view, name="lead_lookup"),
    path("leads/<int:lead_id>/explanation/", views.lead_explanation_view, name="lead_explanation"),
    path("<int:pk>/", views.model_detail_view, name="detail"),
    path("<int:pk>/edit/", views.model_edit_view, name="edit"),
    path("<int:pk>/activate/", views.model_activate_view, name="activate"),
    path("<int:pk>/duplicate/", views.model_duplicate_view, name="duplicate"),
    path("<int:pk>/delete/", views.model_delete_view, name="delete"),
    path("<int:pk>/runs/", views.model_runs_view, name="runs"),
]
