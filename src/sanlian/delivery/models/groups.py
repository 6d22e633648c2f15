"""Models of the groups part of 服务联动."""

__all__: list[str] = []
