from django.apps import AppConfig


class StartersConfig(AppConfig):
    name = "reviewapp.starters"
    label = "starters"
    verbose_name = "Design templates"
