from django.urls import path

from cible.segments.axes import views

app_name = "segments"

urlpatterns = [
    path("", views.axes_view, name="axes"),
    path("axes/new/", views.axis_create_view, name="axis_create"),
    path("axes/<int:pk>/edit/", views.axis_edit_view, name="axis_edit"),
    path("axes/<int:pk>/delete/", views.axis_delete_view, name="axis_delete"),
    path("axes/<int:pk>/segments/new/", views.segment_create_view, name="segment_create"),
    path("<int:pk>/", views.segment_detail_view, name="segment_detail"),
    path("<int:pk>/edit/", views.segment_edit_view, name="segment_edit"),
    path("<int:pk>/delete/", views.segment_delete_view, name="segment_delete"),
    path("<int:pk>/export.csv", views.segment_export_view, name="segment_export"),
    path(
        "<int:pk>/members/<str:action>/",
        views.segment_members_view,
        name="segment_members",
    ),
    path("rebuild/", views.rebuild_start_view, name="rebuild"),
    path("rebuild/<int:pk>/", views.rebuild_progress_view, name="rebuild_progress"),
    path("rule-builder/", views.rule_builder_view, name="rule_builder"),
]
