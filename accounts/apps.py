from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, multi-factor authentication, session limits and re-authentication."""

    name = "accounts"
    verbose_name = "Sign-in and sessions"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects the receivers)
