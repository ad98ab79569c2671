"""The world the URL x role matrix runs in (no tests here): one design of a team, with a published
default checklist, a finished benchmark run, a milestone and a report when those apps have them,
and six personas. `url_for` fills a URL's arguments from the world by their names."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

PERSONAS = ("anonymous", "outsider", "member", "reviewer", "owner", "staff")
# The Django admin has its own test (test_admin_permissions); everything else is in the matrix.
SKIPPED_NAMESPACES = {"admin"}


def named_urls() -> dict[str, URLPattern]:
    """Every named URL of the URL conf, by its full name ("designs:detail")."""
    out: dict[str, URLPattern] = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in SKIPPED_NAMESPACES:
                    continue
                inner = pattern.namespace
                walk(pattern.url_patterns, f"{namespace}:{inner}" if namespace and inner else inner or namespace)
            elif pattern.name:
                out[f"{namespace}:{pattern.name}" if namespace else pattern.name] = pattern

    walk(get_resolver().url_patterns, None)
    return out


@dataclass
class World:
    design: object
    users: dict
    args: dict

    def url_for(self, name: str, pattern: URLPattern) -> str:
        kwargs = {key: self.args[key] for key in pattern.pattern.converters}
        return reverse(name, kwargs=kwargs)


def build_world() -> World:
    from django.contrib.auth import get_user_model
    from engine.design import example_design

    from reviewapp.accounts.models import Membership, Team
    from reviewapp.checklists import services as checklists
    from reviewapp.checklists.models import Checklist
    from reviewapp.designs.models import Design
    from tests.reviewapp.benchmark_fixtures import make_run
    from tests.reviewapp.checklist_fixtures import sample

    User = get_user_model()
    team = Team.objects.create(name="Search team", slug="search-team")
    other = Team.objects.create(name="Other team", slug="other-team")
    users = {}
    for persona, membership in [("outsider", (other, "owner")), ("member", (team, "member")),
                                ("reviewer", (team, "reviewer")), ("owner", (team, "owner")), ("staff", None)]:
        users[persona] = User.objects.create_user(persona, password="pw-for-tests-1", is_staff=persona == "staff")
        if membership:
            Membership.objects.create(user=users[persona], team=membership[0], role=membership[1])
    version = checklists.checklist_import(data=sample(), publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    design = Design.objects.create(team=team, name="Ranking service", inputs=example_design(),
                                   created_by=users["owner"], updated_by=users["owner"])
    run = make_run(design)
    args = {"pk": design.pk, "run_pk": run.pk, "item_key": "req_reviewed", "path": "capacity.replicas",
            "version_pk": version.pk, "template_key": "rag-chat-self-hosted"}
    try:
        from reviewapp.reviews import services as reviews

        milestone = reviews.milestone_create(design=design, user=users["owner"], name="Matrix baseline")
        args["number"] = milestone.number
    except ImportError:
        pass
    try:
        from reviewapp.reports.models import Report

        report = Report.objects.create(design=design, **_report_fields(Report, users["owner"]))
        args["report_pk"] = report.pk
    except (ImportError, TypeError):
        pass
    try:
        from reviewapp.api.tokens import api_token_create

        args["token_pk"] = api_token_create(user=users["owner"], name="Matrix token").token.pk
    except ImportError:
        pass
    try:
        import datetime as dt

        from reviewapp.actions.services import action_create

        args["action_pk"] = action_create(design=design, item_key="req_p99_budget", user=users["owner"],
                                          owner=users["owner"], due_on=dt.date(2026, 1, 1)).pk
        args["team_slug"] = team.slug
    except ImportError:
        pass
    return World(design=design, users=users, args=args)


def _report_fields(model, user) -> dict:
    fields = {f.name for f in model._meta.get_fields()}
    return {"requested_by": user} if "requested_by" in fields else {}
