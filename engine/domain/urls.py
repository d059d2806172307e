"""Joining a base URL (``--target``, ``--read-api``) with an endpoint's path.

Every URL a run sends to is built here, so the rule is in one place: the
base's path is a prefix (``http://host/hooks`` sends to
``/hooks/webhooks/payments/orders``) and its query stays after the joined
path (``http://host/hooks?token=abc`` sends to
``/hooks/webhooks/payments/orders?token=abc``): many receivers take a
token there. A query of the endpoint's own (``/orders?limit=10``) comes
first, the base's after it. A fragment is never sent, so it is dropped.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def join_url(base: str, path: str) -> str:
    """``base`` with ``path`` (which starts with ``/``) appended to its path."""
    parts = urlsplit(base)
    own, _, own_query = path.partition("?")
    query = "&".join(q for q in (own_query, parts.query) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + own, query, ""))


def split_query(url: str) -> tuple[str, str]:
    """``url`` without its query, and the query with its ``?`` ("" without one).

    For a URL built per request (a read of ``/orders/{id}``): join once, then
    put the id between the two halves, which costs no parsing per request.
    """
    head, mark, query = url.partition("?")
    return head, mark + query
