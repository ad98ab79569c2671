from django.contrib import admin

from reviewapp.designs.models import Design, GpuPrice


@admin.register(Design)
class DesignAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "status", "revision", "updated_at"]
    list_filter = ["status", "team"]
    search_fields = ["name", "description", "team__name"]
    readonly_fields = ["revision", "created_at", "updated_at", "created_by", "updated_by"]


@admin.register(GpuPrice)
class GpuPriceAdmin(admin.ModelAdmin):
    list_display = [
        "key", "label", "on_demand_usd_per_hour", "spot_usd_per_hour",
        "reserved_1y_usd_per_hour", "reserved_3y_usd_per_hour", "as_of",
    ]  # fmt: skip
    list_editable = ["on_demand_usd_per_hour", "spot_usd_per_hour", "reserved_1y_usd_per_hour", "reserved_3y_usd_per_hour"]
    list_filter = ["kind"]
    search_fields = ["key", "label"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["key", "label", "kind", "position"]}),
        ("Hourly prices (USD per accelerator-hour)", {
            "fields": ["on_demand_usd_per_hour", "spot_usd_per_hour", "reserved_1y_usd_per_hour",
                       "reserved_3y_usd_per_hour", "source", "as_of"],
        }),
        ("Hardware", {"fields": ["memory_gb", "bf16_tflops", "fp8_tflops", "int8_tops", "memory_bandwidth_gb_s"]}),
        (None, {"fields": ["updated_at"]}),
    ]
