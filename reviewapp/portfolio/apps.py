from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "reviewapp.portfolio"
    verbose_name = "Team portfolio"
