import pytest

from reelscope.catalog import load_catalog
from reelscope.media import (
    MediaSource,
    SourceError,
    SourceKind,
    check_sources,
    sniff_mime_type,
    source_from_link,
    source_from_upload,
)

CATALOG = load_catalog()
MEDIA = CATALOG.media


@pytest.mark.parametrize(
    ("link", "kind", "uri", "mime_type"),
    [
        ("gs://my-bucket/videos/clip.mp4", SourceKind.GCS, "gs://my-bucket/videos/clip.mp4", "video/mp4"),
        ("  gs://b-1/a/b/c.MOV ", SourceKind.GCS, "gs://b-1/a/b/c.MOV", "video/quicktime"),
        ("https://example.com/v/clip.webm", SourceKind.HTTPS, "https://example.com/v/clip.webm", "video/webm"),
        ("https://example.com/img/cat.jpg?x=1", SourceKind.HTTPS, "https://example.com/img/cat.jpg?x=1", "image/jpeg"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10", SourceKind.YOUTUBE, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video/mp4"),
        ("https://youtu.be/dQw4w9WgXcQ", SourceKind.YOUTUBE, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video/mp4"),
        ("https://youtube.com/shorts/dQw4w9WgXcQ", SourceKind.YOUTUBE, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video/mp4"),
    ],
)  # fmt: skip
def test_links_become_sources(link, kind, uri, mime_type):
    source = source_from_link(link)
    assert (source.kind, source.uri, source.mime_type) == (kind, uri, mime_type)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("", "Paste a gs://"),
        ("gs://", "not a Cloud Storage object URI"),
        ("gs://bucket-only", "not a Cloud Storage object URI"),
        ("gs://Bad_Bucket!/x.mp4", "not a Cloud Storage object URI"),
        ("http://example.com/a.mp4", "use https://"),
        ("https://example.com/page", "Can't tell what kind of file"),
        ("https://example.com/a.mkv", "Can't tell what kind of file"),
        ("https://www.youtube.com/channel/abc", "not a YouTube video link"),
        ("ftp://example.com/a.mp4", "not a link Reelscope can use"),
        ("/home/me/video.mp4", "not a link Reelscope can use"),
    ],
)
def test_bad_links_say_what_to_do(link, message):
    with pytest.raises(SourceError, match=message):
        source_from_link(link)


@pytest.mark.parametrize(
    ("head", "mime_type"),
    [
        (b"\x00\x00\x00\x20ftypisom", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        (b"\x00\x00\x00\x14ftyp3gp4", "video/3gpp"),
        (b"\x1a\x45\xdf\xa3\x01", "video/webm"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8", "image/webp"),
        (b"plain text", None),
    ],
)
def test_sniffing_reads_the_container(head, mime_type):
    assert sniff_mime_type(head + b"\x00" * 32) == mime_type


def test_upload_type_comes_from_the_bytes_not_the_name():
    source = source_from_upload("holiday.webm", b"\x00\x00\x00\x20ftypisom" + b"\x00" * 64, MEDIA)
    assert source.mime_type == "video/mp4"
    assert source.kind is SourceKind.UPLOAD


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.mp4", b"", "is empty"),
        ("notes.txt", b"hello world, not a video" * 4, "not a video or image type"),
        ("big.mp4", b"\x00\x00\x00\x20ftypisom" + b"\x00" * 7_000_001, "at most 7.0 MB inline"),
    ],
)
def test_refused_uploads_explain(name, data, message):
    with pytest.raises(SourceError, match=message):
        source_from_upload(name, data, MEDIA)


def _videos(n, kind=SourceKind.GCS):
    return [MediaSource(kind, "video/mp4", f"v{i}", uri=f"gs://b/v{i}.mp4") for i in range(n)]


def test_video_count_is_checked_against_the_model():
    assert check_sources(_videos(10), CATALOG.get("gemini-3.5-flash"), MEDIA) == []
    problems = check_sources(_videos(11), CATALOG.get("gemini-3.5-flash"), MEDIA)
    assert problems and "at most 10 videos" in problems[0]
    problems = check_sources(_videos(2), CATALOG.get("gemini-1.0-pro-vision"), MEDIA)
    assert "at most 1 video per prompt" in problems[0]


def test_one_youtube_url_per_request():
    two = [
        MediaSource(SourceKind.YOUTUBE, "video/mp4", "a", uri="https://www.youtube.com/watch?v=a"),
        MediaSource(SourceKind.YOUTUBE, "video/mp4", "b", uri="https://www.youtube.com/watch?v=b"),
    ]
    problems = check_sources(two, CATALOG.get("gemini-3.5-flash"), MEDIA)
    assert any("1 YouTube URL per request" in p for p in problems)


def test_unsupported_mime_type_is_refused():
    odd = [MediaSource(SourceKind.HTTPS, "video/x-matroska", "a.mkv", uri="https://x/a.mkv")]
    assert (
        "not a type Gemini accepts" in check_sources(odd, CATALOG.get("gemini-3.5-flash"), MEDIA)[0]
    )
