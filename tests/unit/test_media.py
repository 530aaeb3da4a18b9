import dataclasses
import hashlib

import pytest

from reelscope.catalog import load_catalog
from reelscope.media import (
    Clip,
    MediaSource,
    SourceError,
    SourceKind,
    accept_upload,
    check_clip,
    check_sources,
    duration_literal,
    format_size,
    parse_offset,
    source_from_link,
)
from reelscope.media_rules import too_large_to_send
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


def test_an_upload_over_the_inline_limit_is_kept_and_the_rules_say_how_to_send_it(tmp_path):
    small_limit = dataclasses.replace(MEDIA, inline_limit_bytes=50_000)
    video = make_video(tmp_path / "clip.mp4")
    with video.open("rb") as data:
        source = accept_upload(Spool(tmp_path / "s", 10**9), "clip.mp4", data, small_limit)
    assert source.sent_inline and source.size > 50_000  # kept: it may be staged
    refusal = too_large_to_send(source, small_limit)
    assert "at most 50 KB inline" in refusal and "REELSCOPE_BUCKET" in refusal
    assert "gcloud storage buckets create" in refusal
    staged = dataclasses.replace(source, kind=SourceKind.GCS, uri="gs://b/reelscope/x.mp4")
    assert too_large_to_send(staged, small_limit) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", None), ("  ", None), ("75", 75.0), ("75.5", 75.5), ("75.5s", 75.5), ("1:15", 75.0),
     ("1:01:15", 3675.0), ("0:07.5", 7.5), (".5", 0.5)],
)  # fmt: skip
def test_offsets_are_read_as_seconds_or_clock_times(text, seconds):
    assert parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["abc", "1:2:3:4", "-5", "1,5", "5m"])
def test_an_unreadable_offset_says_the_forms_it_takes(text):
    with pytest.raises(SourceError, match="minutes:seconds"):
        parse_offset(text, "start")


@pytest.mark.parametrize(
    ("seconds", "literal"),
    [(12.5, "12.5s"), (90, "90s"), (0, "0s"), (3599.999, "3599.999s"), (1.0004, "1s"), (3000000, "3000000s")],
)  # fmt: skip
def test_durations_are_written_as_protobuf_duration_strings(seconds, literal):
    assert duration_literal(seconds) == literal


@pytest.mark.parametrize(
    ("clip", "duration", "says"),
    [
        (Clip(start_s=5, end_s=5), 12, "must come before the end"),
        (Clip(start_s=8, end_s=3), 12, "must come before the end"),
        (Clip(start_s=13), 12, "start 0:13 is after the video's end (0:12)"),
        (Clip(end_s=20), 12, "end 0:20 is after the video's end"),
        (Clip(start_s=-1), None, "0:00 or later"),
        (Clip(fps=0), 12, "out of range"),
        (Clip(fps=25), 12, "at most 24"),
        (Clip(resolution="ULTRA_HIGH"), 12, "LOW, MEDIUM, HIGH"),
    ],
)
def test_clip_settings_that_vertex_would_refuse_are_refused_here(clip, duration, says):
    problems = check_clip(clip, duration, "clip.mp4")
    assert problems and all(p.startswith("clip.mp4: ") for p in problems)
    assert says in " ".join(problems)


@pytest.mark.parametrize(
    "clip", [Clip(), Clip(0, 12, 24.0), Clip(2.5, 7.25, 0.5, "HIGH"), Clip(end_s=12)]
)
def test_good_clip_settings_pass(clip):
    assert check_clip(clip, 12, "clip.mp4") == []


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
