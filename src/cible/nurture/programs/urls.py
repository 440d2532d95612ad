from django.urls import path

from cible.nurture.programs import views

app_name = "nurture"

urlpatterns = [
    path("", views.program_list_view, name="list"),
    path("new/", views.program_create_view, name="create"),
    path("<int:pk>/", views.program_detail_view, name="detail"),
    path("<int:pk>/settings/", views.program_settings_view, name="settings"),
    path("<int:pk>/status/", views.program_status_view, name="status"),
    path("<int:pk>/enrol/", views.program_enrol_view, name="enrol"),
    path("<int:pk>/steps/", views.step_add_view, name="step_add"),
    path("<int:pk>/steps/<int:step_pk>/", views.step_edit_view, name="step_edit"),
    path("<int:pk>/steps/<int:step_pk>/delete/", views.step_delete_view, name="step_delete"),
    path("<int:pk>/steps/<int:step_pk>/entry/", views.step_entry_view, name="step_entry"),
    path("contacts/<int:contact_pk>/enrol/", views.contact_enrol_view, name="contact_enrol"),
    path("enrolments/<int:pk>/", views.enrolment_detail_view, name="enrolment"),
    path("enrolments/<int:pk>/exit/", views.enrolment_exit_view, name="enrolment_exit"),
]
