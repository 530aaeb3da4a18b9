"""The media file types Vertex AI names, by extension and back: one table for the whole app.

Seed 003 lists the video MIME types Gemini takes; the image types are those `fileData` takes.
"""

from __future__ import annotations

from pathlib import PurePosixPath

EXTENSION_MIME_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mpeg": "video/mpeg",
    ".mpg": "video/mpg",
    ".mpegps": "video/mpegps",
    ".webm": "video/webm",
    ".wmv": "video/wmv",
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
# The first extension listed for a type is the one files of that type are given.
_EXTENSION_FOR: dict[str, str] = {}
for _extension, _mime in EXTENSION_MIME_TYPES.items():
    _EXTENSION_FOR.setdefault(_mime, _extension)


def mime_for_name(name: str) -> str | None:
    """The type a file name claims by its extension (the bytes may say otherwise)."""
    return EXTENSION_MIME_TYPES.get(PurePosixPath(name).suffix.lower())


def extension_for(mime_type: str) -> str | None:
    """The extension to give a file of this type: ".mp4", ".mov", ".jpg", …"""
    return _EXTENSION_FOR.get(mime_type)
