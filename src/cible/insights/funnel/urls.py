from django.urls import path

from cible.insights.funnel import views

app_name = "funnel"

urlpatterns = [
    path("", views.funnel_view, name="report"),
]
