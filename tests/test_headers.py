"""Security headers on every answer: page, API, static, errors, refusals."""

from __future__ import annotations

import re

import pytest
from support.inprocess import ADMIN_PASSWORD, LAN, basic, secured_settings, started

from app.web.headers import CONTENT_SECURITY_POLICY

PATHS = ["/", "/api/tickets", "/static/board.css", "/metrics", "/healthz", "/no-such-page"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_answer_carries_the_security_headers(tmp_path, path):
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        for headers in ({}, basic("alice", ADMIN_PASSWORD)):
            response = await client.get(path, scope_base=LAN, headers=headers)
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_the_policy_forbids_inline_script_eval_and_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'self'"


async def test_hsts_only_over_https_and_configurable(tmp_path):
    async with started(secured_settings(tmp_path / "a")) as app:
        response = await app.test_client().get("/healthz", scope_base={"scheme": "https"})
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    async with started(secured_settings(tmp_path / "b", hsts_seconds=0)) as app:
        response = await app.test_client().get("/healthz", scope_base={"scheme": "https"})
        assert "Strict-Transport-Security" not in response.headers


async def test_the_page_has_no_inline_script_or_style_the_policy_would_block(tmp_path):
    async with started(secured_settings(tmp_path)) as app:
        client = app.test_client(use_cookies=False)
        response = await client.get("/", scope_base=LAN, headers=basic("alice", ADMIN_PASSWORD))
        html = await response.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert tag.strip() == "", "inline script"
    assert not re.search(r"<style\b", html)
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
