from django.conf import settings
from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    """Django's login view; the page states the throttling rule (django-axes, see settings)."""

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        }
