from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "reviewapp.benchmarks"
    label = "benchmarks"
    verbose_name = "Benchmarks"
