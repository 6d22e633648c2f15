"""Django's Redis cache, keeping one client object per connection pool.

Django's backend builds a new `redis.Redis` for every operation (`get_client`), and a client
costs more to build than the round trip it makes (redis-py fills a table of ~170 response
callbacks per client). A client is safe to share: it takes a connection from its pool for
each command. Measured on the survey flood (bench/surveys.py), where every answer counts one
hit against its address.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        this: Any = self  # django-stubs do not declare the private helpers used here
        pool = this._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = this._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingClient
