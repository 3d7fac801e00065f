from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Partnerships, agencies and people"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from agencies.config import forget_on_change
        from agencies.models import Agency, Category, ClosureDay, Partnership

        for model in (Partnership, Agency, Category, ClosureDay):
            post_save.connect(forget_on_change, sender=model, dispatch_uid=f"config-{model}")
            post_delete.connect(forget_on_change, sender=model, dispatch_uid=f"config-{model}")
