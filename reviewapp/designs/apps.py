from django.apps import AppConfig


class DesignsConfig(AppConfig):
    name = "reviewapp.designs"
    label = "designs"
