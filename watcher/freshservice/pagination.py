"""Walking paged answers.

Lists (`/tickets`, `/agents`, `/groups`) announce the next page with a `Link: <…>; rel="next"`
header: we follow it and never infer the end from a short page. The filter endpoint has a fixed
30 a page and a `total`; it may or may not send Link headers, so both are honoured.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

from watcher.freshservice.client import Answer, FreshserviceClient
from watcher.freshservice.errors import BadRequestError, MalformedError, PageCapReached
from watcher.freshservice.ratelimit import Kind

FILTER_PAGE_SIZE = 30


def records(answer: Answer, key: str) -> list[dict[str, Any]]:
    """The list under `key`, every item an object with an integer id, or MalformedError."""
    data = answer.data
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), int) and not isinstance(i.get("id"), bool)
        for i in items
    ):
        raise MalformedError(f"Freshservice sent a list without readable `{key}`.")
    return items


async def linked_pages(
    client: FreshserviceClient,
    path: str,
    params: dict[str, str | int],
    key: str,
    *,
    kind: Kind,
    credits: int = 1,
) -> AsyncIterator[Answer]:
    """Each page's answer (read its records with `records`), following `Link: rel="next"`."""
    answer = await client.get(path, params, kind=kind, credits=credits)
    while True:
        assert answer is not None
        yield answer
        if not answer.next_url:
            return
        answer = await client.get(answer.next_url, kind=kind, credits=credits)


async def filter_tickets(
    client: FreshserviceClient, query: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """Each page of tickets matching a filter query (quoted as the API requires)."""
    page = 1
    next_url: str | None = None
    while True:
        try:
            if next_url:
                answer = await client.get(next_url, kind="list")
            else:
                answer = await client.get(
                    "/api/v2/tickets/filter", {"query": f'"{query}"', "page": page}, kind="list"
                )
        except BadRequestError as exc:
            if page > 1:
                raise PageCapReached(
                    f"Freshservice refused page {page} of {query!r}: {exc}"
                ) from exc
            raise
        assert answer is not None
        tickets = records(answer, "tickets")
        total = answer.data.get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise MalformedError("Freshservice sent a filter answer without `total`.")
        yield tickets
        next_url = answer.next_url
        if next_url:
            page += 1
            continue
        if not tickets or page >= math.ceil(total / FILTER_PAGE_SIZE):
            return
        page += 1
