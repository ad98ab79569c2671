"""Checklists are managed here by staff. Drafts are edited with inlines; a published version is
read-only (its inlines too): "New draft from this version" makes an editable copy. Publishing
compiles every rule and refuses with the engine's JSON-path messages."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from engine.checklist import ChecklistError

from reviewapp.checklists import services
from reviewapp.checklists.convert import version_checklist, version_export
from reviewapp.checklists.diff import version_diff
from reviewapp.checklists.forms import ImportForm, ItemAdminForm
from reviewapp.checklists.models import (
    Answer,
    Checklist,
    ChecklistVersion,
    DesignReview,
    ImmutableVersionError,
    Item,
    RiskAcceptance,
    Section,
)
from reviewapp.core.admin import CustomAdminViews

MAX_MESSAGES = 25


def _report_problems(request: HttpRequest, exc: ChecklistError, prefix: str) -> None:
    problems = list(exc.problems)
    for problem in problems[:MAX_MESSAGES]:
        messages.error(request, f"{prefix}{problem}")
    if len(problems) > MAX_MESSAGES:
        messages.error(request, f"… and {len(problems) - MAX_MESSAGES} more problems.")


class FrozenUnlessDraft:
    """Read-only once the version is published: no change or delete (inlines: no add either)."""

    def _version(self, obj):
        raise NotImplementedError

    def _editable(self, obj) -> bool:
        version = self._version(obj) if obj is not None else None
        return version is None or version.is_draft

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(obj)


class VersionInline(admin.TabularInline):
    model = ChecklistVersion
    fields = ["number", "status", "published_at", "notes"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Checklist)
class ChecklistAdmin(CustomAdminViews, admin.ModelAdmin):
    list_display = ["name", "key", "is_default", "scoring", "newest_version"]
    search_fields = ["name", "key"]
    inlines = [VersionInline]
    change_list_template = "admin/checklists/checklist/change_list.html"

    @admin.display(description="Newest version")
    def newest_version(self, obj: Checklist) -> str:
        version = obj.versions.order_by("-number").first()
        return str(version) if version else "–"

    def has_delete_permission(self, request, obj=None):
        # Published versions are kept for the reviews that pinned them.
        if obj is not None and obj.versions.exclude(status=ChecklistVersion.Status.DRAFT).exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # a new checklist starts with an empty draft to fill in
            ChecklistVersion.objects.create(checklist=obj, number=1, scoring=obj.scoring, created_by=request.user)

    def get_urls(self):
        return [
            self.custom_path("import/", self.import_view, "checklists_checklist_import",
                             permission="add", methods=("GET", "POST")),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST or None, request.FILES or None)
        problems: list = []
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                version = services.checklist_import(
                    data=form.cleaned_data["file"], fmt=form.cleaned_data["format"],
                    user=request.user, publish=form.cleaned_data["publish"],
                )  # fmt: skip
            except ChecklistError as exc:
                problems = list(exc.problems)
                status = 400
            else:
                messages.success(request, f"Imported {version}.")
                return redirect("admin:checklists_checklistversion_change", version.pk)
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a checklist",
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/checklists/checklist/import.html", context, status=status)


class SectionInline(FrozenUnlessDraft, admin.TabularInline):
    model = Section
    fields = ["order", "key", "title", "description", "item_count"]
    readonly_fields = ["item_count"]
    extra = 0
    show_change_link = True

    def _version(self, obj):
        return obj  # the inline's parent is the version

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(obj)

    @admin.display(description="Items")
    def item_count(self, obj: Section) -> int:
        return obj.items.count() if obj.pk else 0


@admin.register(ChecklistVersion)
class ChecklistVersionAdmin(CustomAdminViews, FrozenUnlessDraft, admin.ModelAdmin):
    list_display = ["__str__", "checklist", "number", "status", "published_at"]
    list_filter = ["status", "checklist"]
    fields = ["checklist", "number", "status", "scoring", "levels", "notes", "items_link",
              "created_by", "published_at", "published_by", "retired_at"]  # fmt: skip
    readonly_fields = ["checklist", "number", "status", "items_link", "created_by", "published_at", "published_by", "retired_at"]
    inlines = [SectionInline]
    actions = ["publish", "new_draft", "retire"]
    change_form_template = "admin/checklists/checklistversion/change_form.html"

    def _version(self, obj):
        return obj

    def has_add_permission(self, request, obj=None):
        return False  # versions come from a new checklist, an import or "new draft"

    def has_change_permission(self, request, obj=None):
        # The changelist needs change permission for its actions; a frozen object stays read-only.
        return admin.ModelAdmin.has_change_permission(self, request, obj) and (obj is None or obj.is_draft)

    @admin.display(description="Items")
    def items_link(self, obj: ChecklistVersion) -> str:
        url = reverse("admin:checklists_item_changelist") + f"?section__version__id__exact={obj.pk}"
        count = Item.objects.filter(section__version=obj).count()
        return format_html('<a href="{}">{} items</a>', url, count)

    @admin.action(description="Publish the selected drafts")
    def publish(self, request, queryset):
        for version in queryset:
            self._publish(request, version)

    @admin.action(description="New draft from the selected version")
    def new_draft(self, request, queryset):
        for version in queryset:
            draft = services.version_new_draft(version=version, user=request.user)
            messages.success(request, f"Created {draft}.")

    @admin.action(description="Retire the selected published versions")
    def retire(self, request, queryset):
        for version in queryset:
            try:
                services.version_retire(version=version, user=request.user)
                messages.success(request, f"Retired {version}.")
            except ImmutableVersionError as exc:
                messages.error(request, str(exc))

    def _publish(self, request, version: ChecklistVersion) -> bool:
        try:
            services.version_publish(version=version, user=request.user)
        except ChecklistError as exc:
            _report_problems(request, exc, f"{version} was not published: ")
            return False
        except ImmutableVersionError as exc:
            messages.error(request, str(exc))
            return False
        messages.success(request, f"Published {version.checklist} v{version.number}.")
        return True

    def get_urls(self):
        return [
            self.custom_path("<int:pk>/publish/", self.publish_view, "checklists_checklistversion_publish",
                             permission="change", methods=("POST",)),
            self.custom_path("<int:pk>/new-draft/", self.new_draft_view, "checklists_checklistversion_new_draft",
                             permission="change", methods=("POST",)),
            self.custom_path("<int:pk>/export/<str:fmt>/", self.export_view, "checklists_checklistversion_export",
                             permission="view"),
            self.custom_path("<int:pk>/diff/", self.diff_view, "checklists_checklistversion_diff", permission="view"),
            *super().get_urls(),
        ]

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(ChecklistVersion, pk=pk)
        self._publish(request, version)
        return redirect("admin:checklists_checklistversion_change", version.pk)

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        draft = services.version_new_draft(version=get_object_or_404(ChecklistVersion, pk=pk), user=request.user)
        messages.success(request, f"Created {draft}: edit it, then publish.")
        return redirect("admin:checklists_checklistversion_change", draft.pk)

    def export_view(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        version = get_object_or_404(ChecklistVersion.objects.select_related("checklist"), pk=pk)
        try:
            if fmt == "aws-lens":
                from engine.checklist.lens import checklist_to_lens

                document, suffix = checklist_to_lens(version_checklist(version)), "lens.json"
            elif fmt == "ours":
                document, suffix = version_export(version), "json"
            else:
                messages.error(request, f"Unknown export format {fmt!r}.")
                return redirect("admin:checklists_checklistversion_change", version.pk)
        except ChecklistError as exc:
            _report_problems(request, exc, "Cannot export: ")
            return redirect("admin:checklists_checklistversion_change", version.pk)
        response = HttpResponse(json.dumps(document, indent=2, ensure_ascii=False) + "\n", content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{version.checklist.key}-v{version.number}.{suffix}"'
        return response

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        new = get_object_or_404(ChecklistVersion.objects.select_related("checklist"), pk=pk)
        others = new.checklist.versions.exclude(pk=new.pk).order_by("-number")
        against = request.GET.get("against")
        old = others.filter(pk=against).first() if against and against.isdigit() else others.filter(number__lt=new.number).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Changes in {new}",
            "original": new,
            "others": others,
            "diff": version_diff(old, new) if old else None,
        }
        return TemplateResponse(request, "admin/checklists/checklistversion/diff.html", context)


class ItemInline(FrozenUnlessDraft, admin.StackedInline):
    model = Item
    form = ItemAdminForm
    extra = 0
    show_change_link = True

    def _version(self, obj):
        return obj.version  # the parent is a section

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(obj)


@admin.register(Section)
class SectionAdmin(FrozenUnlessDraft, admin.ModelAdmin):
    list_display = ["title", "key", "version", "order"]
    list_filter = ["version__checklist", "version"]
    fields = ["version", "order", "key", "title", "description"]
    inlines = [ItemInline]

    def _version(self, obj):
        return obj.version

    def get_readonly_fields(self, request, obj=None):
        return ["version"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            kwargs["queryset"] = ChecklistVersion.objects.filter(status=ChecklistVersion.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Item)
class ItemAdmin(FrozenUnlessDraft, admin.ModelAdmin):
    form = ItemAdminForm
    list_display = ["key", "title", "section", "mode", "severity", "weight"]
    list_filter = ["section__version__checklist", "section__version", "mode", "severity"]
    search_fields = ["key", "title"]

    def _version(self, obj):
        return obj.section.version

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            kwargs["queryset"] = Section.objects.filter(version__status=ChecklistVersion.Status.DRAFT).select_related("version__checklist")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["item_key", "status", "choices", "reason", "answered_by", "updated_at"]
    readonly_fields = ["answered_by", "updated_at"]


class RiskAcceptanceInline(admin.TabularInline):
    model = RiskAcceptance
    extra = 0
    fields = ["item_key", "rationale", "expires_on", "accepted_by", "accepted_at"]
    readonly_fields = ["accepted_by", "accepted_at"]


@admin.register(DesignReview)
class DesignReviewAdmin(admin.ModelAdmin):
    list_display = ["design", "version", "pinned_at"]
    list_select_related = ["design", "version__checklist"]
    readonly_fields = ["pinned_at", "pinned_by"]
    inlines = [AnswerInline, RiskAcceptanceInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            kwargs["queryset"] = ChecklistVersion.objects.published()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
