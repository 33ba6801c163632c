from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from cover import views

app_name = "portal"

urlpatterns = [
    path(
        "compte/connexion/",
        auth_views.LoginView.as_view(template_name="portal/login.html"),
        name="login",
    ),
    path("compte/deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "compte/mot-de-passe/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_set.html",
            success_url=reverse_lazy("portal:login"),
        ),
        name="password-set",
    ),
    path("compte/inscription/", views.signup, name="signup"),
    path("compte/inscription/envoyee/", views.signup_sent, name="signup-sent"),
    path("compte/verification/<uidb64>/<token>/", views.verify_email, name="verify"),
    path("portail/", views.portal_home, name="home"),
    path("portail/profil/", views.profile, name="profile"),
    path("portail/souscrire/", views.plan_choice, name="plan-choice"),
    path("portail/souscrire/retour/", views.checkout_return, name="checkout-return"),
    path("portail/contrat/", views.policy_detail, name="policy"),
    path("portail/contrat/<str:number>/attestation.pdf", views.certificate, name="certificate"),
    path("portail/contrat/<str:number>/regler/", views.policy_pay, name="policy-pay"),
]
