"""Sources checked against a model, as every page checks them before building a request."""

from __future__ import annotations

from collections.abc import Sequence

from reelscope.catalog import Model, load_catalog
from reelscope.media import MediaSource
from reelscope.media_rules import CheckedSources, check_for_model

MEDIA = load_catalog().media


def checked(
    model: Model, sources: Sequence[MediaSource] = (), bucket: str | None = None
) -> CheckedSources:
    return check_for_model(list(sources), model, MEDIA, bucket=bucket)
