from django.urls import path

from cover.claims import views

app_name = "claims"

urlpatterns = [
    path("portail/sinistres/", views.claim_list, name="list"),
    path("portail/sinistres/nouveau/", views.claim_new, name="new"),
    path("portail/sinistres/<int:pk>/", views.claim_detail, name="detail"),
    path(
        "portail/sinistres/<int:pk>/questionnaire/",
        views.claim_questionnaire,
        name="questionnaire",
    ),
    path("portail/sinistres/<int:pk>/reponse/", views.claim_reply, name="reply"),
]
