"""get_many's URL batches: the running-length split equals re-encoding each candidate URL."""

from __future__ import annotations

import random
import string
import uuid

import httpx
import pytest

from api_client.auth import StaticTokenProvider
from api_client.client import PartnerApiClient


def _reference(client: PartnerApiClient, ids: list[str]) -> list[list[str]]:
    """The former O(n²) algorithm: build and measure the whole URL (at its worst-case
    offset) for every id added."""
    batches: list[list[str]] = []
    batch: list[str] = []
    for callback_id in ids:
        candidate = [*batch, callback_id]
        if client._list_url_length(candidate) <= client.max_url_length:
            batch = candidate
            continue
        if not batch:
            raise ValueError("a single id does not fit in max_url_length")
        batches.append(batch)
        batch = [callback_id]
        if client._list_url_length(batch) > client.max_url_length:
            raise ValueError("a single id does not fit in max_url_length")
    if batch:
        batches.append(batch)
    return batches


@pytest.mark.parametrize("seed", range(40))
def test_same_batches_as_measuring_every_url(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " &=?/%+#~.-_éж中"
    bound = rng.choice([90, 120, 200, 300, 1800])
    client = PartnerApiClient(
        "http://partner.example/base", StaticTokenProvider("t"), max_url_length=bound
    )
    ids = [
        str(uuid.UUID(int=rng.getrandbits(128)))
        if rng.random() < 0.5
        else "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        for _ in range(rng.randint(0, 250))
    ]
    try:
        expected: list[list[str]] | str = _reference(client, ids)
    except ValueError:
        expected = "too long"
    try:
        got: list[list[str]] | str = client._url_batches(ids)
    except ValueError:
        got = "too long"
    assert got == expected
    if isinstance(got, list):
        for batch in got:
            url = httpx.URL(
                "http://partner.example/base/api/v1/callbackrequest/get-all",
                # every page get_many may ask for: offsets 0 .. len(batch) - 1
                params=client._list_params(
                    batch, None, "Created", False, len(batch), max(len(batch) - 1, 0)
                ),
            )
            assert len(str(url)) <= bound
