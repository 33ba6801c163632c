from django.urls import path

from evidence import views

app_name = "evidence"

urlpatterns = [
    path("preuves/", views.capture_list, name="list"),
    path("preuves/<int:capture_id>/", views.capture_detail, name="detail"),
    path("preuves/<int:capture_id>/etat.json", views.capture_status, name="status"),
    path("preuves/<int:capture_id>/telecharger/", views.capture_download, name="download"),
    path("preuves/partage/<str:token>/", views.share_open, name="share"),
    path("preuves/partage/<str:token>/telecharger/", views.share_download, name="share-download"),
]
