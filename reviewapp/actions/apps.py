from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "reviewapp.actions"
    label = "actions"
    verbose_name = "Improvement actions"
