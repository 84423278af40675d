from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

# The customer's dashboard at /accounts/ is panel.views.dashboard (it shows orders too: see panel/urls.py).
# No namespace: Django's auth views reverse these names ("password_reset_done", ...) as they are.
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(next_page="dashboard", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("transactions/", views.transactions, name="transactions"),
    path("security/", views.security, name="security"),
    path("2fa/", views.two_factor_verify, name="two_factor_verify"),
    path("2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("2fa/off/", views.two_factor_off, name="two_factor_off"),
    path("2fa/backup-codes/", views.backup_codes_renew, name="two_factor_backup_codes"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
