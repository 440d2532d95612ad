from django.urls import path

from cible.quality.duplicates import views

app_name = "duplicates"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("detect/", views.detect_view, name="detect"),
    path("detect/<str:entity>/status/", views.detection_status, name="detection_status"),
    path("pairs/<int:pk>/", views.pair_view, name="pair"),
    path("pairs/<int:pk>/merge/", views.pair_merge_view, name="pair_merge"),
    path("pairs/<int:pk>/not-duplicate/", views.pair_not_duplicate_view, name="pair_not_duplicate"),
    path("pairs/<int:pk>/reopen/", views.pair_reopen_view, name="pair_reopen"),
    path("merges/", views.merges_view, name="merges"),
    path("merges/<int:pk>/", views.merge_view, name="merge"),
    path("merges/<int:pk>/undo/", views.merge_undo_view, name="merge_undo"),
    path("bulk/preview/", views.bulk_preview, name="bulk_preview"),
    path("bulk/", views.bulk_merge_view, name="bulk_merge"),
    path("bulk/<int:pk>/", views.bulk_run_view, name="bulk_run"),
    path("bulk/<int:pk>/cancel/", views.bulk_cancel_view, name="bulk_cancel"),
]
