from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reviewapp.reports"
    verbose_name = "Review reports"
