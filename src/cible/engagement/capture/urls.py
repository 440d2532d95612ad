"""Two lists: the builder's pages (mounted under /forms/, namespace "capture") and the public
endpoints (mounted under /f/, namespace "capture_public"), so that the public side can live
at a short address and be told apart by whoever puts a proxy or a rate limit in front of it."""

from django.urls import include, path

from cible.engagement.capture import public, views

app_name = "capture"

urlpatterns = [
    path("", views.form_list_view, name="list"),
    path("new/", views.form_create_view, name="create"),
    path("<int:pk>/", views.form_detail_view, name="detail"),
    path("<int:pk>/edit/", views.form_edit_view, name="edit"),
]

public_patterns = (
    [
        path("<slug:key>/", public.form_page, name="page"),
        path("<slug:key>/submit", public.form_submit, name="submit"),
        path("<slug:key>.json", public.form_json, name="json"),
    ],
    "capture_public",
)

# For the root urls.py: path("f/", public_urls)
public_urls = include(public_patterns)
