"""The query of ``get-all`` and the batching of ids so that each URL stays short enough.

Some gateways refuse URLs over a couple of kilobytes; ``get_many`` asks for many ids, so
they are split into the longest runs whose ``get-all`` URL fits ``max_url_length``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import httpx

from api_client.models import RequestStatus
from api_client.transport import CALLBACK_ROUTES, Transport


class UrlBatching(Transport):
    """``get-all`` parameters, the URL's length and the id batches that fit."""

    max_url_length: int

    def _url_batches(self, ids: list[str]) -> list[list[str]]:
        """Split ids into the longest runs whose get-all URL fits in ``max_url_length``.

        The length is kept as a running sum (O(n), not an O(n²) re-encoding of the whole URL
        per id): each ``ids=<id>`` item is encoded on its own and adds its length plus one
        ``&``; the rest of the URL is fixed except the digits of ``limit=len(batch)`` and
        ``offset``. A server that caps its pages makes get_many page through a batch with
        growing offsets, all below ``len(batch)``: the batch is measured with
        ``offset=len(batch)``, the worst case, so every page's URL fits.
        """
        # The URL with no ids, limit=0 and offset=0; both "0"s are swapped for the digits
        # of len(batch).
        fixed = self._list_url_length([]) - 2

        def numbers(size: int) -> int:  # limit=<size> and worst-case offset=<size>
            return 2 * len(str(size))

        batches: list[list[str]] = []
        batch: list[str] = []
        ids_length = 0  # the batch's "ids=…&" items, separators included
        for callback_id in ids:
            item = len(str(httpx.QueryParams([("ids", callback_id)]))) + 1
            if fixed + ids_length + item + numbers(len(batch) + 1) <= self.max_url_length:
                batch.append(callback_id)
                ids_length += item
                continue
            if not batch:
                raise ValueError("a single id does not fit in max_url_length")
            batches.append(batch)
            batch, ids_length = [callback_id], item
            if fixed + ids_length + numbers(1) > self.max_url_length:
                raise ValueError("a single id does not fit in max_url_length")
        if batch:
            batches.append(batch)
        return batches

    def _list_url_length(self, ids: list[str]) -> int:
        """The get-all URL's length for ``ids`` at its longest: limit and offset len(ids)."""
        params = self._list_params(ids, None, "Created", False, len(ids), len(ids))
        return len(str(httpx.URL(f"{self._base}{CALLBACK_ROUTES}/get-all", params=params)))

    @staticmethod
    def _list_params(
        ids: Sequence[str] | None,
        statuses: Iterable[RequestStatus | str] | None,
        order: str,
        asc: bool,
        limit: int,
        offset: int,
    ) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("ids", i) for i in ids or ()]
        # A status this code does not know yet is passed through as written.
        params += [
            ("statuses", s.value if isinstance(s, RequestStatus) else str(s))
            for s in statuses or ()
        ]
        params += [
            ("order", order),
            ("asc", "true" if asc else "false"),
            ("limit", str(limit)),
            ("offset", str(offset)),
        ]
        return params
