from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "sanlian.resources"
    label = "resources"
    verbose_name = "资源联合"

    def ready(self) -> None:
        from . import navigation

        navigation.register_pages()
