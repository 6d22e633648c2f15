from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "sanlian.insights"
    label = "insights"
    verbose_name = "数据分析"
