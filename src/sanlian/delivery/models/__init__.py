"""Models of 服务联动, one module per part; each part's module lists its models here."""

from .activities import *  # noqa: F403
from .cases import *  # noqa: F403
from .demands import *  # noqa: F403
from .groups import *  # noqa: F403
from .surveys import *  # noqa: F403
