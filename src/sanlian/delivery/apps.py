from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "sanlian.delivery"
    label = "delivery"
    verbose_name = "服务联动"

    def ready(self) -> None:
        from . import demo, navigation

        navigation.register_pages()
        demo.register()  # the demo data of 服务联动, after that of 资源联合
        # Each part hooks itself in (indicator counters of 资源联合, restructuring followers,
        # profile sections...) from its own `services/<part>.py` `connect()`.
        from . import outputs
        from .services import activities, cases, demands, groups, surveys

        outputs.connect()

        for part in (surveys, demands, cases, groups, activities):
            connect = getattr(part, "connect", None)
            if connect is not None:
                connect()
