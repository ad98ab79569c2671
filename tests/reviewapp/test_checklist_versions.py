"""A published version never changes (model, queryset, service); a design keeps its pin."""

import pytest
from engine.checklist import ChecklistError

from reviewapp.checklists import services
from reviewapp.checklists.models import (
    Checklist,
    ChecklistVersion,
    DesignReview,
    ImmutableVersionError,
    Item,
    Section,
)
from tests.reviewapp.checklist_fixtures import filled_design, published, sample  # noqa: F401


def test_it_refuses_to_save_a_changed_published_version(published):
    published.scoring = "minimum"
    with pytest.raises(ImmutableVersionError):
        published.save()
    assert ChecklistVersion.objects.get(pk=published.pk).scoring == "weighted"


def test_it_refuses_to_reopen_or_delete_a_published_version(published):
    published.status = ChecklistVersion.Status.DRAFT
    with pytest.raises(ImmutableVersionError):
        published.save()
    with pytest.raises(ImmutableVersionError):
        ChecklistVersion.objects.get(pk=published.pk).delete()
    assert ChecklistVersion.objects.get(pk=published.pk).status == "published"


def test_it_refuses_to_change_items_and_sections_of_a_published_version(published):
    item = Item.objects.get(section__version=published, key="req_p99_budget")
    item.passes_when = "true"
    with pytest.raises(ImmutableVersionError):
        item.save()
    with pytest.raises(ImmutableVersionError):
        item.delete()
    with pytest.raises(ImmutableVersionError):
        Item.objects.filter(pk=item.pk).update(title="changed")
    with pytest.raises(ImmutableVersionError):
        Item.objects.filter(section__version=published).delete()
    section = Section.objects.filter(version=published).first()
    section.title = "changed"
    with pytest.raises(ImmutableVersionError):
        section.save()
    with pytest.raises(ImmutableVersionError):
        Section.objects.filter(pk=section.pk).update(title="changed")
    with pytest.raises(ImmutableVersionError):
        Item(section=section, key="new_item", title="New").save()
    assert Item.objects.get(pk=item.pk).passes_when == "requirements.latency_p99_ms <= 5000"
    assert Item.objects.filter(section__version=published).count() == 5


def test_it_refuses_to_publish_twice(published):
    with pytest.raises(ImmutableVersionError):
        services.version_publish(version=published)


def test_retiring_is_the_one_change_a_published_version_takes(published):
    services.version_retire(version=published)
    published.refresh_from_db()
    assert published.status == "retired" and published.retired_at is not None


def test_new_draft_copies_the_version_and_can_be_edited(published):
    draft = services.version_new_draft(version=published)
    assert (draft.number, draft.status) == (2, "draft")
    assert Item.objects.filter(section__version=draft).count() == 5
    item = Item.objects.get(section__version=draft, key="req_p99_budget")
    item.passes_when = "requirements.latency_p99_ms <= 9000"
    item.save()
    assert Item.objects.get(section__version=published, key="req_p99_budget").passes_when.endswith("5000")


def test_publish_refuses_a_draft_whose_rule_does_not_compile(published):
    draft = services.version_new_draft(version=published)
    Item.objects.filter(section__version=draft, key="req_p99_budget").update(passes_when="requirements.latency_p99_ms <=")
    with pytest.raises(ChecklistError) as raised:
        services.version_publish(version=draft)
    assert raised.value.problems[0].path == "sections[0].items[0].passes_when"
    assert "does not compile" in raised.value.problems[0].message
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.published_at is None


def test_a_design_keeps_its_pinned_version_after_a_newer_one_is_published(published, filled_design, reviewer):
    review = services.review_for_design(design=filled_design)
    assert review.version == published
    draft = services.version_new_draft(version=published)
    services.version_publish(version=draft)
    assert DesignReview.objects.get(design=filled_design).version_id == published.pk
    assert services.review_for_design(design=filled_design).version_id == published.pk
    services.review_repin(review=review, version=draft, user=reviewer)
    assert DesignReview.objects.get(design=filled_design).version_id == draft.pk


def test_a_new_design_pins_the_newest_published_version(published, filled_design):
    draft = services.version_new_draft(version=published)
    services.version_publish(version=draft)
    assert services.review_for_design(design=filled_design).version_id == draft.pk


def test_no_pin_without_a_published_default_checklist(db, filled_design):
    services.checklist_import(data=sample())  # a draft only
    assert services.review_for_design(design=filled_design) is None
    assert not DesignReview.objects.exists()


def test_a_pinned_version_cannot_be_deleted_with_its_checklist(published, filled_design):
    from django.db.models import ProtectedError

    services.review_for_design(design=filled_design)
    with pytest.raises(ProtectedError):
        Checklist.objects.filter(pk=published.checklist_id).delete()
