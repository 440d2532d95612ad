from django.urls import path

from cible.segments.profiles import persona_views, views

app_name = "profiles"

urlpatterns = [
    path("", views.profile_list_view, name="list"),
    path("new/", views.profile_create_view, name="create"),
    path("criterion-row/", views.criterion_row_view, name="criterion_row"),
    path("personas/", persona_views.persona_list_view, name="persona_list"),
    path("personas/new/", persona_views.persona_create_view, name="persona_create"),
    path("personas/<slug:code>/", persona_views.persona_detail_view, name="persona_detail"),
    path("personas/<slug:code>/edit/", persona_views.persona_edit_view, name="persona_edit"),
    path("personas/<slug:code>/delete/", persona_views.persona_delete_view, name="persona_delete"),
    path("personas/<slug:code>/count/", persona_views.persona_count_view, name="persona_count"),
    path("icp/<slug:code>/", views.profile_detail_view, name="detail"),
    path("icp/<slug:code>/edit/", views.profile_edit_view, name="edit"),
    path("icp/<slug:code>/delete/", views.profile_delete_view, name="delete"),
    path("icp/<slug:code>/score/", views.profile_score_view, name="score"),
    path("icp/<slug:code>/run/", views.profile_run_view, name="run"),
    path("icp/<slug:code>/fit/<int:pk>/", views.fit_view, name="fit"),
]
