"""The first paint's cache: shared while fresh, bounded in bytes, nothing kept past its age."""

from __future__ import annotations

import asyncio

from app.web.page_cache import PageCache


def renderer(text: str, calls: list[str]):
    async def render() -> str:
        calls.append(text)
        await asyncio.sleep(0.01)
        return text

    return render


async def test_ten_tvs_asking_at_once_share_one_render():
    cache, calls = PageCache(), []
    pages = await asyncio.gather(*(cache.get("v1", renderer("page", calls)) for _ in range(10)))
    assert pages == ["page"] * 10 and calls == ["page"]


async def test_the_cache_holds_at_most_its_bytes_oldest_out_first():
    cache, calls = PageCache(max_bytes=250, max_age=60), []
    for key in ("a", "b", "c"):
        await cache.get(key, renderer(key * 100, calls))
    assert cache._bytes <= 250
    await cache.get("a", renderer("a" * 100, calls))  # "a" was evicted: rendered again
    assert calls == ["a" * 100, "b" * 100, "c" * 100, "a" * 100]


async def test_nothing_is_kept_past_its_age():
    cache, calls = PageCache(max_age=0.05), []
    await cache.get("v", renderer("x", calls))
    await asyncio.sleep(0.1)
    await cache.get("w", renderer("y", calls))
    assert list(cache._pages) == ["w"] and cache._bytes == 1
