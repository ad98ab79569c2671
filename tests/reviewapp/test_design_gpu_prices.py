"""The staff-edited GPU price catalog: loaded from the shipped file, edited in the admin, used by
the planning, with the shipped file as the fallback while the table is empty."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from engine.design import example_design
from engine.planning.gpu_catalog import shipped_catalog
from reviewapp.designs.assessment import assess_document
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.models import Design, GpuPrice


def test_an_empty_table_falls_back_to_the_shipped_file(db):
    assert gpu_catalog() == shipped_catalog()


def test_load_gpu_prices_copies_the_file_and_keeps_staff_edits(db):
    call_command("load_gpu_prices", stdout=None)
    assert GpuPrice.objects.count() == len(shipped_catalog()["gpus"])
    assert gpu_catalog()["gpus"] == shipped_catalog()["gpus"]
    GpuPrice.objects.filter(key="h100-80gb").update(spot_usd_per_hour=9.99)
    call_command("load_gpu_prices")
    assert GpuPrice.objects.get(key="h100-80gb").spot_usd_per_hour == 9.99
    call_command("load_gpu_prices", "--update")
    assert GpuPrice.objects.get(key="h100-80gb").spot_usd_per_hour == shipped_catalog()["gpus"]["h100-80gb"][
        "price_usd_per_hour"]["spot"]


def test_the_catalog_reads_the_rows_as_the_orm_does(db):
    """The catalog's SELECT is plain SQL (the ORM's compile cost more than the query): it reads the
    same values, of the same types and in the admin's order, on SQLite and on PostgreSQL."""
    import datetime as dt

    from reviewapp.designs import catalog

    call_command("load_gpu_prices", stdout=None)
    GpuPrice.objects.filter(key="h100-80gb").update(as_of=dt.date(2026, 1, 31), position=99, fp8_tflops=None)
    GpuPrice.objects.filter(key="a100-80gb").update(as_of=None, label="A100 ‘80 GB’ — edited")
    rows = catalog._catalog_rows()
    assert rows == tuple(GpuPrice.objects.values_list(*catalog.CATALOG_COLUMNS))
    assert [type(value) for value in rows[-1]] == [type(value) for value in GpuPrice.objects.values_list(
        *catalog.CATALOG_COLUMNS).get(key="h100-80gb")]
    assert rows[-1][0] == "h100-80gb" and rows[-1][catalog.CATALOG_COLUMNS.index("as_of")] == dt.date(2026, 1, 31)
    assert gpu_catalog()["gpus"]["a100-80gb"]["label"] == "A100 ‘80 GB’ — edited"


def test_planning_uses_the_staff_prices(db):
    call_command("load_gpu_prices")
    before = assess_document(example_design(), gpu_catalog()).facts.get("cost.monthly_usd.spot")
    GpuPrice.objects.filter(key="h100-80gb").update(spot_usd_per_hour=3.8)  # double the shipped 1.9
    after = assess_document(example_design(), gpu_catalog()).facts.get("cost.monthly_usd.spot")
    assert after == pytest.approx(before * 2)


def test_the_accelerator_menu_lists_the_catalog(client_for, member, design):
    call_command("load_gpu_prices")
    GpuPrice.objects.create(
        key="mi300x-192gb", label="AMD MI300X", memory_gb=192, bf16_tflops=1307, memory_bandwidth_gb_s=5300,
        on_demand_usd_per_hour=4.0, spot_usd_per_hour=2.0, reserved_1y_usd_per_hour=3.0, reserved_3y_usd_per_hour=2.5,
        position=99,
    )
    html = client_for(member).get(reverse("designs:detail", args=[design.pk])).content.decode()
    assert '<option value="mi300x-192gb">AMD MI300X</option>' in html
    data_url = reverse("designs:inputs", args=[design.pk])
    from reviewapp.designs.document import form_data

    document = example_design()
    document["architecture"]["gpu_type"] = "mi300x-192gb"
    assert client_for(member).post(data_url, form_data(document, revision=1)).status_code == 302
    assert Design.objects.get(pk=design.pk).inputs["architecture"]["gpu_type"] == "mi300x-192gb"


def test_a_row_the_engine_would_reject_does_not_validate(db):
    row = GpuPrice(key="bad", label="Bad", memory_gb=0, bf16_tflops=1, memory_bandwidth_gb_s=1,
                   on_demand_usd_per_hour=-1, spot_usd_per_hour=1, reserved_1y_usd_per_hour=1,
                   reserved_3y_usd_per_hour=1)
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert set(caught.value.message_dict) == {"memory_gb", "on_demand_usd_per_hour"}


def test_staff_edit_prices_in_the_admin(client, admin_user):
    call_command("load_gpu_prices")
    client.force_login(admin_user)
    row = GpuPrice.objects.get(key="l4-24gb")
    page = client.get(reverse("admin:designs_gpuprice_changelist"))
    assert page.status_code == 200 and b"NVIDIA L4" in page.content
    change = reverse("admin:designs_gpuprice_change", args=[row.pk])
    form = client.get(change).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name != "updated_at"}
    data["on_demand_usd_per_hour"] = 0.95
    response = client.post(change, data)
    assert response.status_code == 302, response.content[:2000]
    row.refresh_from_db()
    assert row.on_demand_usd_per_hour == 0.95


def test_non_staff_cannot_reach_the_admin(client_for, member):
    response = client_for(member).get(reverse("admin:designs_gpuprice_changelist"))
    assert response.status_code == 302
