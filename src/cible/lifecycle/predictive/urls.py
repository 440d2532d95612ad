from django.urls import path

from cible.lifecycle.predictive import views

app_name = "predictive"
urlpatterns = [
    path("", views.model_list_view, name="list"),
    path("models/", views.models_table_view, name="table"),
    path("train/", views.train_view, name="train"),
    path("leads/<int:lead_id>/", views.lead_prediction_view, name="lead"),
    path("<int:pk>/", views.model_detail_view, name="detail"),
    path("<int:pk>/status/", views.model_status_view, name="status"),
    path("<int:pk>/activate/", views.model_activate_view, name="activate"),
]
