from django.urls import URLPattern

app_name = "freshness"

urlpatterns: list[URLPattern] = []
