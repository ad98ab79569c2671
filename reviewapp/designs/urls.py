from django.urls import path

from reviewapp.designs import views, views_deploy, views_file

app_name = "designs"

urlpatterns = [
    path("", views.design_list, name="list"),
    path("new/", views.design_create, name="create"),
    path("facts/", views.fact_reference, name="facts"),
    path("methodology/", views.methodology, name="methodology"),
    path("import/", views_file.design_file_import, name="import_file"),
    path("design-file.schema.json", views_file.design_file_schema, name="file_schema"),
    path("<int:pk>/", views.design_detail, name="detail"),
    path("<int:pk>/edit/", views.design_edit, name="edit"),
    path("<int:pk>/inputs/", views.design_save_inputs, name="inputs"),
    path("<int:pk>/inputs/preview/", views.design_preview_inputs, name="inputs_preview"),
    path("<int:pk>/inputs/form/", views.design_redraw_inputs, name="inputs_form"),
    path("<int:pk>/requirements.md", views.design_requirements_markdown, name="requirements_md"),
    path("<int:pk>/design-file/", views_file.design_file_export, name="export_file"),
    path("<int:pk>/numbers/<str:path>/", views.design_number, name="number"),
    path("<int:pk>/kubernetes/", views_deploy.design_kubernetes, name="kubernetes"),
    path("<int:pk>/kubernetes.yaml", views_deploy.design_kubernetes_yaml, name="kubernetes_yaml"),
    path("<int:pk>/delete/", views.design_delete, name="delete"),
]
