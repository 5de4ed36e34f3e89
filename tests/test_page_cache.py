"""The first paint's cache: shared, rendered in the background when an older page will do,
bounded in bytes, nothing kept past its age."""

from __future__ import annotations

import asyncio

from app.web.page_cache import PageCache


def renderer(text: str, calls: list[str], delay: float = 0.01):
    async def render() -> bytes:
        calls.append(text)
        await asyncio.sleep(delay)
        return text.encode()

    return render


async def test_ten_tvs_asking_at_once_for_a_new_filter_share_one_render():
    cache, calls = PageCache(), []
    got = await asyncio.gather(*(cache.get("all", 1, renderer("page", calls)) for _ in range(10)))
    assert got == [b"page"] * 10 and calls == ["page"]


async def test_a_new_version_is_rendered_in_the_background_while_the_last_page_is_served():
    cache, calls = PageCache(), []
    await cache.get("all", 1, renderer("v1", calls))
    served = await cache.get("all", 2, renderer("v2", calls, delay=0.05))
    assert served == b"v1"  # nobody waits for the new render
    await asyncio.sleep(0.1)
    assert await cache.get("all", 2, renderer("v3", calls)) == b"v2"
    assert calls == ["v1", "v2"]


async def test_the_cache_holds_at_most_its_bytes_oldest_out_first():
    cache, calls = PageCache(max_bytes=250), []
    for key in ("a", "b", "c"):
        await cache.get(key, 1, renderer(key * 100, calls))
    assert cache._bytes <= 250
    await cache.get("a", 1, renderer("a" * 100, calls))  # "a" was evicted: rendered again
    assert calls == ["a" * 100, "b" * 100, "c" * 100, "a" * 100]


async def test_nothing_is_kept_past_its_stale_age():
    cache, calls = PageCache(max_age=0.01, stale_age=0.05), []
    await cache.get("v", 1, renderer("x", calls))
    await asyncio.sleep(0.1)
    await cache.get("w", 1, renderer("y", calls))
    assert list(cache._pages) == ["w"] and cache._bytes == 1
