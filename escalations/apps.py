from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Professional differences"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from escalations.selectors import forget_permission_ids

        post_migrate.connect(forget_permission_ids, dispatch_uid="forget-permission-ids")
