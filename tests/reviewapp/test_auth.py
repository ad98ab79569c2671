from django.urls import reverse


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_login_with_good_credentials_lands_on_designs(client, member):
    response = client.post(reverse("login"), {"username": "mei", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert response.url == reverse("designs:list")
    assert client.session["_auth_user_id"] == str(member.pk)


def test_login_with_bad_password_says_so(client, member):
    response = client.post(reverse("login"), {"username": "mei", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"enter a correct username and password" in response.content


def test_logout_needs_post(client_for, member):
    client = client_for(member)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_admin_needs_staff(client_for, member):
    response = client_for(member).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url
