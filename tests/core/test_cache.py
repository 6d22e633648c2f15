"""The Redis cache backend (production) against a real Redis: the Django cache API works and
one client object serves every operation of a cache."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sanlian.core.cache import RedisCache
from tests.celery_support import REDIS_TEST_URL, redis_problem

pytestmark = pytest.mark.skipif(bool(redis_problem()), reason=f"Redis: {redis_problem()}")


@pytest.fixture
def cache() -> Any:
    # A key prefix of its own, and no clear(): the Celery tests share this Redis database.
    return RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})


def test_the_cache_api_works(cache: Any) -> None:
    cache.set("k", {"a": 1}, 30)
    assert (cache.add("k", 2, 30), cache.add("n", 1, 30), cache.incr("n"), cache.get("k")) == (
        False,
        True,
        2,
        {"a": 1},
    )


def test_one_client_serves_every_operation(cache: Any) -> None:
    client = cache._cache.get_client(write=True)
    cache.set("k", 1, 30)
    cache.get("k")
    assert cache._cache.get_client(write=True) is client
