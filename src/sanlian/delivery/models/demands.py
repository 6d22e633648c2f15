"""Models of the demands part of 服务联动."""

__all__: list[str] = []
