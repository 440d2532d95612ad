from django.contrib.auth import views as auth_views
from django.urls import include, path

from cible import views
from cible.api import api
from cible.core import views as core_views
from cible.engagement.capture.urls import public_urls as capture_public_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("home/count/<str:what>/", views.home_count, name="home_count"),
    path("login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", core_views.search_view, name="search"),
    path("settings/tokens/", core_views.tokens_view, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", core_views.token_revoke_view, name="token_revoke"),
    path("settings/access/", core_views.policy_view, name="access_policy"),
    path("api/v1/", api.urls),
    path("", include("cible.people.urls")),
    path("", include("cible.pipeline.urls")),
    path("imports/", include("cible.quality.imports.urls")),
    path("duplicates/", include("cible.quality.duplicates.urls")),
    path("quality/", include("cible.quality.freshness.urls")),
    path("privacy/", include("cible.quality.privacy.urls")),
    path("segments/", include("cible.segments.axes.urls")),
    path("targets/", include("cible.segments.targets.urls")),
    path("performance/", include("cible.insights.performance.urls")),
    path("funnel/", include("cible.insights.funnel.urls")),
    path("profiles/", include("cible.segments.profiles.urls")),
    path("campaigns/", include("cible.engagement.campaigns.urls")),
    path("interactions/", include("cible.engagement.interactions.urls")),
    path("leads/", include("cible.lifecycle.leads.urls")),
    path("scoring/", include("cible.lifecycle.scoring.urls")),
    path("forms/", include("cible.engagement.capture.urls")),
    path("f/", capture_public_urls),
    path("predictive/", include("cible.lifecycle.predictive.urls")),
    path("", include("cible.engagement.tasks.urls")),
    path("", include("cible.nurture.mailing.urls")),
    path("nurture/", include("cible.nurture.programs.urls")),
    path("routing/", include("cible.routing.assignment.urls")),
    path("", include("cible.routing.sla.urls")),
]
