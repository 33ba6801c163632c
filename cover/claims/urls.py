from django.urls import path

from cover.claims import capture_views, views

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
    path(
        "portail/sinistres/<int:pk>/captures/nouvelle/",
        capture_views.capture_new,
        name="capture_new",
    ),
    path(
        "portail/sinistres/<int:pk>/captures/<int:capture_id>/etat.json",
        capture_views.capture_status,
        name="capture_status",
    ),
    path(
        "portail/sinistres/<int:pk>/captures/<int:capture_id>/capture.png",
        capture_views.capture_image,
        name="capture_image",
    ),
    path(
        "portail/sinistres/<int:pk>/captures/comparer/",
        capture_views.captures_compare,
        name="captures_compare",
    ),
    path(
        "portail/sinistres/<int:pk>/captures/annexe.pdf",
        capture_views.captures_annex,
        name="captures_annex",
    ),
]
