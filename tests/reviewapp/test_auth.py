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


# --- login throttling (django-axes) -------------------------------------------------------


def wrong(client, username="mei", **extra):
    return client.post(reverse("login"), {"username": username, "password": "wrong"}, **extra)


def right(client, username="mei", **extra):
    return client.post(reverse("login"), {"username": username, "password": "pw-for-tests-1"}, **extra)


def test_the_login_page_states_the_throttling_rule(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 5
    page = client.get(reverse("login")).content.decode()
    assert "After 5 wrong passwords for one username" in page and "locked for 15 minutes" in page


def test_wrong_passwords_lock_the_username_from_that_address(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert wrong(client).status_code == 200
    response = wrong(client)  # the limit-th failure locks
    assert response.status_code == 429
    response = right(client)  # even the right password is refused during the cool-off
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()


def test_a_lockout_is_per_username_and_address(client, member, reviewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong(client)
    assert right(client, "rafael").status_code == 302  # another username from the same address
    client.logout()
    assert right(client, REMOTE_ADDR="10.9.8.7").status_code == 302  # the same username elsewhere


def test_forged_forwarded_for_does_not_escape_the_lockout(client, member, settings):
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy in front: X-Forwarded-For is the client's word
    for i in range(settings.AXES_FAILURE_LIMIT):
        wrong(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert right(client, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, member, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong(client, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7")
    assert right(client, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert right(client, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, member, settings):
    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong(client)
    assert right(client).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1))
    assert right(client).status_code == 302


def test_a_success_resets_the_count(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong(client)
    assert right(client).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert wrong(client).status_code == 200
