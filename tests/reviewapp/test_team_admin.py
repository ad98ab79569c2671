"""The team admin: a team's name is one line of printable text (it goes into e-mails and report
headers), refused with the reason and nothing saved otherwise."""

from reviewapp.accounts.models import Team
from tests.reviewapp.checklist_fixtures import staff  # noqa: F401

URL = "/admin/accounts/team/add/"


def test_staff_adds_a_team(client, staff):
    client.force_login(staff)
    response = client.post(URL, {"name": "Search team", "slug": "search-team", **_no_members()})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Team.objects.get().name == "Search team"


def test_a_team_name_with_a_line_break_is_refused(client, staff):
    client.force_login(staff)
    response = client.post(URL, {"name": "Search\r\nBcc: all@example.com", "slug": "search", **_no_members()})
    assert response.status_code == 200
    assert "control character U+000D" in response.content.decode()
    assert not Team.objects.exists()


def _no_members() -> dict:
    return {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
