from django.urls import path

from cible.nurture.mailing import public, views

app_name = "mailing"

urlpatterns = [
    path("email/templates/", views.template_list_view, name="template_list"),
    path("email/templates/new/", views.template_edit_view, name="template_create"),
    path("email/templates/check/", views.template_check_view, name="template_check"),
    path("email/templates/preview/", views.template_preview_view, name="template_preview"),
    path("email/templates/<int:pk>/", views.template_edit_view, name="template_edit"),
    path("email/templates/<int:pk>/test/", views.template_test_view, name="template_test"),
    path("email/templates/<int:pk>/delete/", views.template_delete_view, name="template_delete"),
    path("email/contacts/", views.contact_search_view, name="contact_search"),
    path("email/outbox/", views.outbox_view, name="outbox"),
    path("email/outbox/<int:pk>/", views.message_detail_view, name="message"),
    path("email/policy/", views.policy_view, name="policy"),
    path("m/o/<str:token>.gif", public.open_view, name="open"),
    path("m/c/<str:token>", public.click_view, name="click"),
    path("m/u/", public.unsubscribe_test_view, name="unsubscribe_test"),
    path("m/u/<str:token>", public.unsubscribe_view, name="unsubscribe"),
]
