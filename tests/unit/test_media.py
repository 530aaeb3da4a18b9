import dataclasses
import hashlib

import pytest

from reelscope.catalog import load_catalog
from reelscope.media import (
    MediaSource,
    SourceError,
    SourceKind,
    accept_upload,
    check_sources,
    format_size,
    source_from_link,
)
from reelscope.spool import Spool
from tests.media_files import make_corrupt_mp4, make_empty_file, make_text_file, make_video

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


@pytest.fixture
def spool(tmp_path):
    return Spool(tmp_path / "spool", max_bytes=50_000_000)


def test_an_upload_is_spooled_by_hash_and_typed_by_its_bytes(spool, video_file):
    with video_file.open("rb") as data:
        source = accept_upload(spool, "holiday.webm", data, MEDIA)  # the name lies
    assert source.mime_type == "video/mp4" and source.kind is SourceKind.UPLOAD
    assert source.sha256 == hashlib.sha256(video_file.read_bytes()).hexdigest()
    assert source.path.read_bytes() == video_file.read_bytes()
    assert source.previewable and source.probe.duration_s == pytest.approx(12, abs=0.2)
    assert source.key == f"sha256:{source.sha256}"


@pytest.mark.parametrize(
    ("make", "name", "says"),
    [
        (lambda folder: make_text_file(folder / "notes.mp4"), "notes.mp4", "not a video"),
        (lambda folder: make_text_file(folder / "notes.mov"), "notes.mov", "not a video"),
        (lambda folder: make_corrupt_mp4(folder / "broken.mp4"), "broken.mp4", "damaged"),
        (lambda folder: make_empty_file(folder / "empty.mp4"), "empty.mp4", "empty"),
    ],
)
def test_refused_uploads_name_the_file_and_the_reason_and_are_not_kept(
    spool, tmp_path, make, name, says
):
    path = make(tmp_path)
    with path.open("rb") as data, pytest.raises(SourceError) as refused:
        accept_upload(spool, name, data, MEDIA)
    assert name in str(refused.value) and says in str(refused.value).lower()
    assert spool.total_bytes == 0


def test_an_upload_over_the_inline_limit_says_what_to_do(tmp_path):
    small_limit = dataclasses.replace(MEDIA, inline_limit_bytes=50_000)
    video = make_video(tmp_path / "clip.mp4")
    with video.open("rb") as data, pytest.raises(SourceError, match="at most 50 KB inline"):
        accept_upload(Spool(tmp_path / "s", 10**9), "clip.mp4", data, small_limit)


def test_a_full_spool_refuses_with_a_message(tmp_path, video_file):
    with video_file.open("rb") as data, pytest.raises(SourceError):
        accept_upload(Spool(tmp_path / "s", max_bytes=1000), "clip.mp4", data, MEDIA)


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (48_200, "48 KB"), (6_540_000, "6.5 MB"), (1.2e9, "1.2 GB")],
)
def test_sizes_read_as_people_read_them(size, text):
    assert format_size(int(size)) == text


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
