from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from reviewapp.accounts.views import LoginView
from reviewapp.api.api import api_urls
from reviewapp.core.views import healthz, healthz_detail

admin.site.site_header = "AI design review — administration"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="designs:list", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("healthz/detail", healthz_detail, name="healthz_detail"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("designs/", include("reviewapp.designs.urls")),
    path("designs/", include("reviewapp.reviews.urls")),
    path("designs/templates/", include("reviewapp.starters.urls")),
    path("designs/compare/", include("reviewapp.alternatives.urls")),
    path("checklists/", include("reviewapp.checklists.urls")),
    path("", include("reviewapp.benchmarks.urls")),
    path("", include("reviewapp.reports.urls")),
    path("", include("reviewapp.actions.urls")),
    path("portfolio/", include("reviewapp.portfolio.urls")),
    path("api/v1/", api_urls()),
    path("api/tokens/", include("reviewapp.api.urls")),
    path("admin/", admin.site.urls),
]
