"""Two real bot processes behind a round-robin proxy (issue 13), on the PostgreSQL and Redis
that .ci/run starts: TEST_POSTGRES_URL (a fresh database is created per module) and
TEST_REDIS_URL (its database is FLUSHED). Skipped without them.

Fixtures:
  cluster   tests.replicas.cluster.Cluster, module-scoped: the replicas start once per
            module (≈ 5 s each); tests share them (use ``running`` to get both alive)
  running   the cluster with both replicas running (restarts one a test killed)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.replicas.cluster import Cluster

SKIP_REASON = (
    "TEST_POSTGRES_URL and TEST_REDIS_URL must both be set: two bot replicas need a "
    "PostgreSQL server to create a database on and a throwaway Redis (.ci/run starts both)"
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    postgres = os.environ.get("TEST_POSTGRES_URL", "").strip()
    redis = os.environ.get("TEST_REDIS_URL", "").strip()
    if not postgres or not redis:
        pytest.skip(SKIP_REASON)
    world = Cluster(postgres, redis, tmp_path_factory.mktemp("replicas"))
    try:
        await world.open()
        yield world
    finally:
        await world.close()


@pytest_asyncio.fixture(loop_scope="module")
async def running(cluster: Cluster) -> Cluster:
    await cluster.ensure_running()
    return cluster
