from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "sanlian.insights"
    label = "insights"
    verbose_name = "数据分析"

    def ready(self) -> None:
        from . import navigation

        navigation.register_pages()
