from django.urls import path

from cible.insights.performance import views

app_name = "performance"

urlpatterns = [
    path("", views.segments_view, name="segments"),
    path("crosstab/", views.crosstab_view, name="crosstab"),
    path("accounts/", views.accounts_view, name="accounts"),
]
