"""Who may change what: everything kept has an owner, and only its owner deletes it.

Locally every record belongs to the one local user (`reelscope.tasks.LOCAL_OWNER`), so nothing
is ever refused there. Behind IAP each user owns what they made; the team sees it all (History's
team view, the shared library and collections), read-only. The stores check the acting owner
in the same statement that deletes, so a hidden button is never the only guard.
"""

from __future__ import annotations


class NotYours(ValueError):
    """A change refused because the record belongs to someone else; the message says so."""

    def __init__(self, what: str, instead: str = "") -> None:
        said = f"{what} belongs to someone else on your team: only its owner can change it."
        super().__init__(f"{said} {instead}".strip())
