"""Security headers on every response: a strict CSP, nosniff, no referrer, HSTS over HTTPS, and
`Cache-Control: no-store` on everything but the static files."""

from __future__ import annotations

from quart import Quart, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def install_security_headers(app: Quart, hsts_seconds: int) -> None:
    hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else ""

    @app.after_request
    async def add_security_headers(response: Response) -> Response:
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/static/"):
            # Ticket data (the page, the stream, the API) and the admin pages are never kept by
            # a browser or a proxy; only the versioned static files may be cached.
            response.headers["Cache-Control"] = "no-store"
        else:  # behind the login: the browser may keep them, a shared proxy may not
            response.headers["Cache-Control"] = "private, max-age=86400"
        if hsts and request.scheme == "https":
            response.headers["Strict-Transport-Security"] = hsts
        return response
