"""The review flow through its services: requests, decisions, separation of duties, gating with
risk acceptance or an override, approval bound to a revision, history, emails. Every refusal is
checked to have written nothing (rows counted before and after)."""

import json

import pytest
from django.core import mail
from engine.design import example_design

from reviewapp.accounts.models import Team
from reviewapp.checklists import services as checklists
from reviewapp.designs import services as designs
from reviewapp.designs.models import Design
from reviewapp.reviews import services
from reviewapp.reviews.models import Decision, HistoryEvent, Milestone, ReviewRequest
from tests.reviewapp.review_fixtures import (  # noqa: F401
    accept_high_risks,
    counts,
    filled_design,
    in_review,
    published,
    second_reviewer,
)

Status = Design.Status
Kind = HistoryEvent.Kind


def approve(design, user, **kwargs):
    kwargs.setdefault("comment", "Looks right.")
    return services.review_decide(design=design, user=user, outcome="approved", revision=design.revision, **kwargs)


def edit(design, user, peak_qps=600.0):
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = peak_qps
    design.refresh_from_db()
    return designs.design_update_inputs(design=design, data=inputs, revision=design.revision, user=user)


# --- requests -------------------------------------------------------------------------------------


def test_a_request_moves_the_design_to_review_and_freezes_a_milestone(published, filled_design, member, reviewer):
    request = services.review_request(design=filled_design, user=member, revision=filled_design.revision,
                                      message="Board on Friday", reviewers=[reviewer])
    filled_design.refresh_from_db()
    assert filled_design.status == Status.IN_REVIEW
    request = ReviewRequest.objects.get(pk=request.pk)
    assert (request.state, request.requested_by, request.status_before) == ("open", member, "draft")
    assert list(request.reviewers.all()) == [reviewer]
    assert request.milestone.kind == Milestone.Kind.REQUEST
    assert request.milestone.design_revision == filled_design.revision
    event = HistoryEvent.objects.get(design=filled_design, kind=Kind.REVIEW_REQUESTED)
    assert (event.actor, event.milestone, event.data["message"]) == (member, request.milestone, "Board on Friday")


def test_a_request_naming_someone_who_cannot_review_writes_nothing(published, filled_design, member, outsider):
    from tests.conftest import _user_in

    other_member = _user_in(filled_design.team, "max", "member")
    before = counts()
    for wrong in ([outsider], [other_member], [member]):  # not in the team, no reviewer role, oneself
        with pytest.raises(services.Invalid):
            services.review_request(design=filled_design, user=member, revision=filled_design.revision, reviewers=wrong)
    assert counts() == before


def test_a_request_on_a_stale_revision_writes_nothing(published, filled_design, member):
    before = counts()
    with pytest.raises(services.Conflict):
        services.review_request(design=filled_design, user=member, revision=filled_design.revision - 1 or 99)
    assert counts() == before


def test_withdrawing_goes_back_to_the_status_before_the_request(in_review, member):
    services.review_withdraw(design=in_review, user=member)
    in_review.refresh_from_db()
    assert in_review.status == Status.DRAFT
    assert ReviewRequest.objects.get(design=in_review).state == "withdrawn"
    assert HistoryEvent.objects.filter(design=in_review, kind=Kind.REVIEW_WITHDRAWN, actor=member).exists()


# --- separation of duties -----------------------------------------------------------------------


def test_self_approval_is_refused_for_the_requester(in_review, member, team):
    from reviewapp.accounts.models import Membership

    Membership.objects.filter(user=member, team=team).update(role="reviewer")  # a reviewer asking for review
    accept_high_risks(in_review, member)
    before = counts()
    with pytest.raises(services.NotAllowed, match="You requested this review"):
        approve(in_review, member)
    assert counts() == before


def test_an_owner_does_not_approve_their_own_design(in_review, owner, reviewer):
    # The fixture design was created by the owner; no decision since.
    accept_high_risks(in_review, reviewer)
    before = counts()
    with pytest.raises(services.NotAllowed, match="You changed this design"):
        approve(in_review, owner)
    assert counts() == before


def test_someone_who_edited_since_the_last_decision_may_not_approve(in_review, member, reviewer, second_reviewer):
    services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="Fix p99",
                           revision=in_review.revision)
    edit(in_review, second_reviewer)  # a reviewer edits the design, then someone requests a review
    services.review_request(design=in_review, user=member, revision=in_review.revision)
    accept_high_risks(in_review, reviewer)
    in_review.refresh_from_db()
    with pytest.raises(services.NotAllowed, match="You changed this design"):
        approve(in_review, second_reviewer)
    assert approve(in_review, reviewer).outcome == "approved"  # edited before the last decision: not an author now


def test_a_team_may_allow_self_approval(in_review, owner, reviewer):
    Team.objects.filter(pk=in_review.team_id).update(allow_self_approval=True)
    in_review.refresh_from_db()
    accept_high_risks(in_review, reviewer)
    assert approve(in_review, owner).decided_by == owner


def test_a_member_cannot_decide(in_review, member):
    before = counts()
    for outcome in ("approved", "changes_requested"):
        with pytest.raises(services.NotAllowed, match="reviewer role"):
            services.review_decide(design=in_review, user=member, outcome=outcome, comment="x", revision=in_review.revision)
    assert counts() == before


# --- gating ---------------------------------------------------------------------------------------


def test_approval_with_an_open_high_risk_is_refused(in_review, reviewer):
    before = counts()
    with pytest.raises(services.Invalid, match="block approval") as refused:
        approve(in_review, reviewer)
    assert [f["item_key"] for f in refused.value.gate.blockers] == ["req_p99_budget"]
    assert counts() == before
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW


def test_approval_over_an_open_high_risk_with_an_override_is_recorded_and_shown(in_review, reviewer, client_for):
    decision = approve(in_review, reviewer, override_reason="Latency target is being renegotiated with product.")
    decision = Decision.objects.get(pk=decision.pk)
    assert decision.override_reason == "Latency target is being renegotiated with product."
    assert [f["item_key"] for f in decision.overridden] == ["req_p99_budget"]
    frozen = Milestone.objects.get(pk=decision.milestone_id).snapshot
    assert frozen["review"]["override"]["reason"] == decision.override_reason
    assert [f["item_key"] for f in frozen["review"]["override"]["findings"]] == ["req_p99_budget"]
    assert frozen["design"]["status"] == Status.APPROVED
    history = HistoryEvent.objects.get(design=in_review, kind=Kind.APPROVED)
    assert "renegotiated" in history.summary and history.data["overridden"] == ["req_p99_budget"]
    # ...and the pages show it: the design page and the milestone.
    client = client_for(reviewer)
    page = client.get(f"/designs/{in_review.pk}/").content.decode()
    assert 'data-testid="decision-override"' in page and "renegotiated with product" in page
    milestone_page = client.get(f"/designs/{in_review.pk}/milestones/{decision.milestone.number}/").content.decode()
    assert 'data-testid="milestone-override"' in milestone_page and "renegotiated with product" in milestone_page


def test_an_accepted_risk_no_longer_blocks_and_needs_no_override(in_review, reviewer):
    accept_high_risks(in_review, reviewer)
    decision = approve(in_review, reviewer)
    assert (decision.override_reason, decision.overridden) == ("", [])
    assert Milestone.objects.get(pk=decision.milestone_id).snapshot["review"]["override"] is None


def test_a_rule_error_blocks_approval(published, filled_design, member, reviewer):
    from reviewapp.checklists.models import Checklist
    from tests.reviewapp.checklist_fixtures import sample

    document = sample()
    document["sections"][1]["items"][1]["passes_when"] = "architecture.circuit_breaker > 3"  # bool > int: errors
    version = checklists.checklist_import(data=document, publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    review = checklists.review_for_design(design=filled_design, user=reviewer)
    checklists.review_repin(review=review, version=version, user=reviewer)
    from reviewapp.designs.selectors import design_assessment

    assert design_assessment(filled_design).evaluation.rule_error_count == 1
    services.review_request(design=filled_design, user=member, revision=filled_design.revision)
    accept_high_risks(filled_design, reviewer)
    filled_design.refresh_from_db()
    with pytest.raises(services.Invalid) as refused:
        approve(filled_design, reviewer)
    assert [f["outcome"] for f in refused.value.gate.blockers] == ["rule_error"]


def test_a_decision_needs_a_comment(in_review, reviewer):
    before = counts()
    with pytest.raises(services.Invalid, match="comment"):
        services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="  ",
                               revision=in_review.revision)
    assert counts() == before


def test_the_approval_lists_what_it_signs(in_review, reviewer):
    decision = approve(in_review, reviewer, override_reason="ok")
    signed = Milestone.objects.get(pk=decision.milestone_id).snapshot["review"]["signed"]
    assert [f["item_key"] for f in signed["unanswered"]] == ["req_reviewed", "rel_degradation"]


# --- bound to a revision ------------------------------------------------------------------------


def test_an_edit_after_approval_moves_the_design_to_changed_since_approval(in_review, member, reviewer):
    decision = approve(in_review, reviewer, override_reason="ok")
    in_review.refresh_from_db()
    assert in_review.status == Status.APPROVED and decision.design_revision == in_review.revision
    edit(in_review, member)
    in_review.refresh_from_db()
    assert in_review.status == Status.CHANGED_SINCE_APPROVAL
    event = HistoryEvent.objects.filter(design=in_review, kind=Kind.EDITED).first()
    assert event.data["approval_superseded"] is True and event.status == Status.CHANGED_SINCE_APPROVAL
    assert event.data["inputs"] == [{"path": "requirements.peak_qps", "old": 70.0, "new": 600.0}]


@pytest.mark.parametrize("change", ["answer", "accept", "revoke", "repin"])
def test_a_change_to_answers_acceptances_or_the_pin_after_approval_also_supersedes_it(in_review, reviewer, change):
    accept_high_risks(in_review, reviewer)
    approve(in_review, reviewer)
    review = checklists.review_for_design(design=in_review)
    if change == "answer":
        checklists.answer_set(review=review, item_key="req_reviewed", user=reviewer, status="pass")
    elif change == "accept":
        checklists.risk_accept(review=review, item_key="rel_breaker", user=reviewer, rationale="later")
    elif change == "revoke":
        checklists.risk_revoke(review=review, item_key="req_p99_budget", user=reviewer)
    else:
        new = checklists.version_publish(version=checklists.version_new_draft(version=review.version))
        checklists.review_repin(review=review, version=new, user=reviewer)
    in_review.refresh_from_db()
    assert in_review.status == Status.CHANGED_SINCE_APPROVAL


def test_an_edit_in_review_keeps_the_status(in_review, member):
    edit(in_review, member)
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW


def test_a_decision_on_a_stale_revision_is_refused(in_review, member, reviewer):
    seen = in_review.revision
    edit(in_review, member)
    before = counts()
    with pytest.raises(services.Conflict, match="after you read revision"):
        services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="no",
                               revision=seen)
    assert counts() == before


def test_a_second_decision_on_the_same_revision_is_refused_and_says_who_won(in_review, reviewer, second_reviewer):
    revision = in_review.revision
    services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="p99", revision=revision)
    before = counts()
    with pytest.raises(services.Conflict, match="rafael"):
        services.review_decide(design=in_review, user=second_reviewer, outcome="approved", comment="fine",
                               revision=revision, override_reason="x")
    assert counts() == before
    assert Decision.objects.filter(design=in_review).count() == 1


def test_re_requesting_after_changes_and_approving_closes_each_request(in_review, member, reviewer):
    services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="p99",
                           revision=in_review.revision)
    edit(in_review, member, peak_qps=80.0)
    services.review_request(design=in_review, user=member, revision=in_review.revision)
    in_review.refresh_from_db()
    approve(in_review, reviewer, override_reason="ok")
    assert list(ReviewRequest.objects.filter(design=in_review).order_by("id").values_list("state", flat=True)) == [
        "changes_requested", "approved"]
    in_review.refresh_from_db()
    assert in_review.status == Status.APPROVED


# --- milestones -----------------------------------------------------------------------------------


def test_a_decision_milestone_reads_the_same_after_edits_versions_and_prices(in_review, member, reviewer, published):
    from django.core.management import call_command

    from reviewapp.designs.models import GpuPrice
    from reviewapp.designs.snapshot import content_hash

    call_command("load_gpu_prices")
    decision = approve(in_review, reviewer, override_reason="ok")
    frozen = json.dumps(Milestone.objects.get(pk=decision.milestone_id).snapshot, sort_keys=True)
    edit(in_review, member)
    checklists.version_publish(version=checklists.version_new_draft(version=published))
    GpuPrice.objects.update(on_demand_usd_per_hour=99.0)
    milestone = Milestone.objects.get(pk=decision.milestone_id)
    assert json.dumps(milestone.snapshot, sort_keys=True) == frozen
    assert content_hash(milestone.snapshot) == milestone.content_hash


def test_decisions_and_history_are_append_only(in_review, reviewer):
    from reviewapp.reviews.models import ImmutableRecordError

    decision = approve(in_review, reviewer, override_reason="ok")
    decision.comment = "rewritten"
    with pytest.raises(ImmutableRecordError):
        decision.save()
    with pytest.raises(ImmutableRecordError):
        Decision.objects.filter(pk=decision.pk).update(comment="rewritten")
    with pytest.raises(ImmutableRecordError):
        HistoryEvent.objects.filter(design=in_review).delete()
    event = HistoryEvent.objects.filter(design=in_review).first()
    with pytest.raises(ImmutableRecordError):
        event.delete()
    assert Decision.objects.get(pk=decision.pk).comment == "Looks right."


def test_deleting_a_design_takes_its_record_along(in_review, reviewer, owner):
    approve(in_review, reviewer, override_reason="ok")
    designs.design_delete(design=in_review)
    assert not Milestone.objects.exists() and not Decision.objects.exists() and not HistoryEvent.objects.exists()


# --- history --------------------------------------------------------------------------------------


def test_history_records_who_did_what(in_review, member, reviewer):
    review = checklists.review_for_design(design=in_review)
    checklists.answer_set(review=review, item_key="req_reviewed", user=member, status="pass")
    checklists.answer_clear(review=review, item_key="req_reviewed", user=member)
    checklists.risk_accept(review=review, item_key="req_p99_budget", user=reviewer, rationale="Known")
    checklists.risk_revoke(review=review, item_key="req_p99_budget", user=reviewer)
    services.milestone_create(design=in_review, user=member, name="Before the board")
    rows = list(HistoryEvent.objects.filter(design=in_review).order_by("id").values_list("kind", "actor__username"))
    assert rows == [
        (Kind.REVIEW_REQUESTED, "mei"), (Kind.ANSWERED, "mei"), (Kind.ANSWER_CLEARED, "mei"),
        (Kind.RISK_ACCEPTED, "rafael"), (Kind.RISK_REVOKED, "rafael"), (Kind.MILESTONE_SAVED, "mei"),
    ]


def test_a_design_created_through_the_service_records_its_author(published, team, member):
    design = designs.design_create(team=team, name="Fresh", description="", user=member)
    assert HistoryEvent.objects.get(design=design).kind == Kind.CREATED


# --- emails ---------------------------------------------------------------------------------------


def test_a_request_emails_the_named_reviewers(published, filled_design, member, reviewer, second_reviewer,
                                              django_capture_on_commit_callbacks):
    for user in (reviewer, second_reviewer):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.review_request(design=filled_design, user=member, revision=filled_design.revision,
                                message="Board Friday", reviewers=[second_reviewer])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ruth@example.com"]
    assert "Board Friday" in mail.outbox[0].body and filled_design.name in mail.outbox[0].subject


def test_a_request_naming_nobody_emails_the_teams_reviewers(published, filled_design, member, reviewer, owner,
                                                            django_capture_on_commit_callbacks):
    for user in (reviewer, owner, member):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.review_request(design=filled_design, user=member, revision=filled_design.revision)
    assert sorted(mail.outbox[0].to) == ["olivia@example.com", "rafael@example.com"]


def test_a_decision_emails_the_requester(in_review, member, reviewer, django_capture_on_commit_callbacks):
    member.email = "mei@example.com"
    member.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="Fix the p99.",
                               revision=in_review.revision)
    assert [m.to for m in mail.outbox] == [["mei@example.com"]]
    assert "Fix the p99." in mail.outbox[0].body and mail.outbox[0].subject.startswith("Changes requested")


def test_a_failing_mail_server_does_not_undo_the_decision(in_review, member, reviewer, settings,
                                                          django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    member.email = "mei@example.com"
    member.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="p99",
                               revision=in_review.revision)
    assert Decision.objects.filter(design=in_review).count() == 1


def test_a_request_pins_the_checklist_version_so_a_newer_one_changes_nothing(published, design, member):
    from reviewapp.checklists.models import DesignReview

    assert not DesignReview.objects.filter(design=design).exists()  # made outside the service: not pinned
    services.review_request(design=design, user=member, revision=design.revision)
    assert DesignReview.objects.get(design=design).version == published
    checklists.version_publish(version=checklists.version_new_draft(version=published))
    assert DesignReview.objects.get(design=design).version == published


def test_a_name_that_breaks_lines_still_gets_its_email_with_a_one_line_subject(
        published, filled_design, member, reviewer, django_capture_on_commit_callbacks):
    """Names saved before control characters were refused (or through the admin) must not make the
    e-mail fail while the request records "requested" (issue 27, item 5)."""
    # \x1b, not NUL: PostgreSQL refuses NUL in text, so no stored name can hold one.
    Design.objects.filter(pk=filled_design.pk).update(name="Ranking\r\nBcc: everyone@example.com\x1b")
    filled_design.refresh_from_db()
    reviewer.email = "rafael@example.com"
    reviewer.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.review_request(design=filled_design, user=member, revision=filled_design.revision)
    [sent] = mail.outbox
    assert sent.subject == "Review requested: Ranking Bcc: everyone@example.com"
    assert sent.to == ["rafael@example.com"] and sent.message()["Bcc"] is None
