from django.contrib import admin

from reviewapp.benchmarks.models import BenchmarkRun


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "design", "source", "status", "progress", "device", "created_at", "finished_at")
    list_filter = ("status", "source")
    search_fields = ("design__name", "task_id", "worker_host")
    # Runs change only through the services' compare-and-set updates.
    readonly_fields = [f.name for f in BenchmarkRun._meta.fields]
