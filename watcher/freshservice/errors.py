"""What can go wrong talking to Freshservice, each as a sentence a person can act on."""

from __future__ import annotations

from watcher.source import SourceError


class FreshserviceError(SourceError):
    """A cycle failed; the message is shown on the board and printed by `--once`."""


class AuthError(FreshserviceError):
    """401 or 403: retrying will not help until a person changes the key or its permissions."""


class WrongDomainError(FreshserviceError):
    """The host does not exist or is not a Freshservice API."""


class TransientError(FreshserviceError):
    """5xx, timeout, connection trouble: worth retrying with backoff."""


class MalformedError(FreshserviceError):
    """An answer we cannot read: it reveals nothing, the cycle fails."""


class BadRequestError(FreshserviceError):
    """400 and other 4xx we did not expect: the request itself was refused."""


class PageCapReached(FreshserviceError):
    """The filter endpoint refused a later page (a page cap is unconfirmed but possible)."""
