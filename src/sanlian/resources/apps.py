from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "sanlian.resources"
    label = "resources"
    verbose_name = "资源联合"

    def ready(self) -> None:
        from . import demo, navigation
        from .services import ledger as ledger_services
        from .views import ledger as ledger_views

        navigation.register_pages()
        # The community and venue pages' sections, what follows a restructured community,
        # and the demo data of 资源联合 (all registries of sanlian.organizations).
        ledger_views.register_sections()
        ledger_services.register_followers()
        demo.register()
