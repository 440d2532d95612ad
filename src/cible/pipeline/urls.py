from django.urls import include, path

from cible.pipeline import views

app_name = "pipeline"
urlpatterns = [
    path("opportunities/", include(views.OPPORTUNITY_PAGES.urls())),
]
