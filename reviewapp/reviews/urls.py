from django.urls import path

from reviewapp.reviews import views

app_name = "reviews"

# Under /designs/ (reviewapp/urls.py): a design's review lives beside its page.
urlpatterns = [
    path("<int:pk>/review/request/", views.review_request, name="request"),
    path("<int:pk>/review/withdraw/", views.review_withdraw, name="withdraw"),
    path("<int:pk>/review/decide/", views.review_decide, name="decide"),
    path("<int:pk>/milestones/", views.milestones, name="milestones"),
    path("<int:pk>/milestones/<int:number>/", views.milestone_detail, name="milestone"),
    path("<int:pk>/milestones/<int:number>/snapshot.json", views.milestone_json, name="milestone_json"),
    path("<int:pk>/compare/", views.compare, name="compare"),
    path("<int:pk>/history/", views.history, name="history"),
]
