from django.apps import AppConfig


class ChecklistsConfig(AppConfig):
    name = "reviewapp.checklists"
    label = "checklists"
