from django.urls import path

from reviewapp.reports import views

app_name = "reports"

urlpatterns = [
    path("designs/<int:pk>/reports/", views.report_list, name="list"),
    path("designs/<int:pk>/report/", views.report_draft, name="draft"),
    path("designs/<int:pk>/report.md", views.report_draft_markdown, name="draft_md"),
    path("designs/<int:pk>/report/pdf/", views.report_draft_pdf, name="draft_pdf"),
    path("designs/<int:pk>/milestones/<int:number>/report/", views.report_milestone, name="milestone"),
    path("designs/<int:pk>/milestones/<int:number>/report.md", views.report_milestone_markdown, name="milestone_md"),
    path("designs/<int:pk>/milestones/<int:number>/report/pdf/", views.report_milestone_pdf, name="milestone_pdf"),
    path("designs/<int:pk>/reports/<int:report_pk>/", views.report_status, name="status"),
    path("designs/<int:pk>/reports/<int:report_pk>/pdf", views.report_pdf, name="pdf"),
]
