"""The fact reference page: every path rule authors can use, generated from the engine."""

from django.urls import reverse

from engine.facts import fact_reference

URL = reverse("designs:facts")


def test_it_redirects_anonymous_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_any_signed_in_user_sees_every_fact_with_unit_and_type(client_for, outsider):
    response = client_for(outsider).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    rows = fact_reference()
    assert len(rows) > 150
    for row in rows:
        assert f'<tr id="fact-{row["path"]}"><td><code>{row["path"]}</code></td><td><code>{row["type"]}</code></td>' \
               f'<td>{row["unit"] or ""}</td>' in html.replace("&quot;", '"'), row["path"]


def test_the_design_page_links_to_it(client_for, member, design):
    assert URL.encode() in client_for(member).get(reverse("designs:detail", args=[design.pk])).content


def test_it_rejects_post(client_for, member):
    assert client_for(member).post(URL).status_code == 405
