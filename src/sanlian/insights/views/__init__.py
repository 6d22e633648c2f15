"""Pages of 数据分析: the role-aware home page, and the analysis pages by part."""

from .home import home

__all__ = ["home"]
