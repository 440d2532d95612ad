from cible.engagement.campaigns import views

app_name = "campaigns"
urlpatterns = views.urls()
