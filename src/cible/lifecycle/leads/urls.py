from django.urls import path

from cible.lifecycle.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list_view, name="list"),
    path("definitions/", views.definitions_view, name="definitions"),
    path("definitions/<int:pk>/approve/", views.definition_approve_view, name="approve"),
    path("open/<int:contact_pk>/", views.lead_open_view, name="open"),
    path("<int:pk>/", views.lead_detail_view, name="detail"),
    path("<int:pk>/move/", views.lead_move_view, name="move"),
    path("<int:pk>/accept/", views.lead_accept_view, name="accept"),
    path("<int:pk>/reject/", views.lead_reject_view, name="reject"),
    path("<int:pk>/qualify/", views.lead_qualify_view, name="qualify"),
    path("<int:pk>/convert/", views.lead_convert_view, name="convert"),
]
