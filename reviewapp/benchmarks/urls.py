from django.urls import path

from reviewapp.benchmarks import views

app_name = "benchmarks"

urlpatterns = [
    path("designs/<int:pk>/benchmarks/", views.benchmark_list, name="list"),
    path("designs/<int:pk>/benchmarks/new/", views.benchmark_new, name="new"),
    path("designs/<int:pk>/benchmarks/upload/", views.benchmark_upload, name="upload"),
    path("designs/<int:pk>/benchmarks/known/", views.benchmark_known, name="known"),
    path("designs/<int:pk>/benchmarks/<int:run_pk>/", views.benchmark_run, name="run"),
    path("designs/<int:pk>/benchmarks/<int:run_pk>/cancel/", views.benchmark_cancel, name="cancel"),
    path("designs/<int:pk>/benchmarks/<int:run_pk>/pin/", views.benchmark_pin, name="pin"),
]
