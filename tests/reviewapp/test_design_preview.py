"""The live numbers: computed from the unsaved form values, nothing stored."""

from django.urls import reverse

from engine.design import example_design
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design


def url(design):
    return reverse("designs:inputs_preview", args=[design.pk])


def row(design):
    return Design.objects.filter(pk=design.pk).values("inputs", "revision", "updated_at").get()


def test_it_redirects_anonymous_to_login(client, design):
    response = client.post(url(design), form_data(example_design(), revision=1))
    assert response.status_code == 302


def test_member_sees_the_numbers_and_nothing_is_saved(client_for, member, design):
    before = row(design)
    response = client_for(member).post(url(design), form_data(example_design(), revision=1), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="design-numbers"')
    assert 'data-path="cost.monthly_usd.spot">$' in html
    assert 'data-path="capacity.replicas">' in html
    assert row(design) == before


def test_numbers_follow_the_values(client_for, member, design):
    client = client_for(member)
    low = example_design()
    high = example_design()
    high["requirements"]["peak_qps"] = 700.0
    low_numbers = client.post(url(design), form_data(low, revision=1)).context["numbers"]
    high_numbers = client.post(url(design), form_data(high, revision=1)).context["numbers"]
    assert high_numbers.facts.get("capacity.replicas") > low_numbers.facts.get("capacity.replicas")


def test_budget_warning_names_the_overrun(client_for, member, design):
    document = example_design()
    document["requirements"]["monthly_gpu_budget_usd"] = 1000.0
    html = client_for(member).post(url(design), form_data(document, revision=1)).content.decode()
    assert "exceeds the GPU budget ($1,000) by 1119 %" in html  # the cheaper tier is its own fleet (issue 25)


def test_errors_come_back_out_of_band_per_field(client_for, member, design):
    data = form_data(example_design(), revision=1)
    data["requirements.peak_qps"] = "lots"
    response = client_for(member).post(url(design), data)
    assert response.status_code == 200  # htmx swaps only 2xx: errors are content, not a status
    html = response.content.decode()
    assert '<ul class="errorlist" id="f-requirements-peak-qps-errors" hx-swap-oob="true"><li>Expects a number.</li>' in html
    assert 'id="f-requirements-latency-p99-ms-errors" hx-swap-oob="true"></ul>' in html
    assert "1 field to fix" in html


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).post(url(design), form_data(example_design(), revision=1)).status_code == 404


def test_it_rejects_get(client_for, member, design):
    assert client_for(member).get(url(design)).status_code == 405


def test_it_warns_when_someone_saved_in_between(client_for, member, owner, design):
    Design.objects.filter(pk=design.pk).update(revision=3, updated_by=owner)
    html = client_for(member).post(url(design), form_data(example_design(), revision=1)).content.decode()
    assert "olivia saved this design (revision 3) after you opened it" in html
    assert row(design)["revision"] == 3
