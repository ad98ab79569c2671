"""What one reviewer does, for locust (run by benchmarks/load.py, which starts the app).

Each simulated user logs in as the demo user and then, with short pauses, opens the designs list,
the demo design (the heaviest page: one assessment), types into the form (the htmx preview POST),
opens the checklist review page and the benchmarks list, and the public health check is polled.
Every response is checked for its status and a text it must contain, so a refused request counts
as a failure, not as a fast answer.
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

USERNAME = os.environ.get("LOAD_USERNAME", "demo")
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo-review-2026")


class Reviewer(HttpUser):
    wait_time = between(0.5, 2.0)

    def insecure_cookies(self) -> None:
        # Production cookies are Secure; this loopback run is plain HTTP, so send them back as is.
        for cookie in list(self.client.cookies):
            cookie.secure = False

    def on_start(self) -> None:
        self.client.get("/accounts/login/", name="login page")
        self.insecure_cookies()
        token = self.client.cookies.get("csrftoken")
        with self.client.post("/accounts/login/", name="log in", allow_redirects=False, catch_response=True,
                              data={"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD},
                              headers={"Referer": self.host + "/accounts/login/"}) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
                return
        self.insecure_cookies()
        page = self.client.get("/designs/", name="designs list").text
        found = re.search(r'href="/designs/(\d+)/"', page)
        self.design = found.group(1) if found else None
        self.inputs: dict[str, str] = {}

    def check(self, response, expect: str) -> None:
        if response.status_code != 200 or expect not in response.text:
            response.failure(f"{response.status_code}, missing {expect!r}")

    @task(3)
    def design_page(self) -> None:
        self.insecure_cookies()
        with self.client.get(f"/designs/{self.design}/", name="design page", catch_response=True) as response:
            self.check(response, "The numbers")
            if response.status_code == 200 and not self.inputs:
                self.inputs = dict(re.findall(r'name="((?:requirements|architecture)\.[a-z0-9_]+|revision)"'
                                              r'[^>]*?value="([^"]*)"', response.text))

    @task(4)
    def typing_preview(self) -> None:
        self.insecure_cookies()
        if not self.inputs:
            return
        data = {**self.inputs, "requirements.peak_qps": str(random.randint(50, 500))}
        with self.client.post(f"/designs/{self.design}/inputs/preview/", data=data, name="typing preview",
                              headers={"HX-Request": "true", "X-CSRFToken": self.client.cookies.get("csrftoken", ""),
                                       "Referer": f"{self.host}/designs/{self.design}/"},
                              catch_response=True) as response:
            self.check(response, "design-numbers")

    @task(1)
    def designs_list(self) -> None:
        self.insecure_cookies()
        with self.client.get("/designs/", name="designs list", catch_response=True) as response:
            self.check(response, "Support assistant")

    @task(1)
    def checklist_review(self) -> None:
        self.insecure_cookies()
        with self.client.get(f"/checklists/design/{self.design}/review/", name="checklist review",
                             catch_response=True) as response:
            self.check(response, "Checklist")

    @task(1)
    def benchmarks_list(self) -> None:
        self.insecure_cookies()
        with self.client.get(f"/designs/{self.design}/benchmarks/", name="benchmarks list",
                             catch_response=True) as response:
            self.check(response, "Benchmarks")

    @task(1)
    def health(self) -> None:
        self.insecure_cookies()
        with self.client.get("/healthz", name="healthz", catch_response=True) as response:
            self.check(response, '"ok"')
