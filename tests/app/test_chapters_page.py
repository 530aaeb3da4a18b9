"""The Chapters page in AppTest: a run in JSON mode, chapters checked, listed and exported."""

from __future__ import annotations

import hashlib
import json

from streamlit.testing.v1 import AppTest

from components.media import media_preview
from reelscope.chapters.modes import BUILTIN_MODES
from reelscope.database import SharedDatabase, sqlite_url
from reelscope.store import SCHEMA, STORE_FILENAME
from reelscope.store.modes import MODES_FILENAME
from reelscope.tasks import registry
from tests.app.conftest import ROOT, start_app, texts

PAGE = "pages/chapters.py"
CHAPTERS = [
    {"start": "00:00", "end": "00:04", "title": "Red", "summary": "A red screen.", "speech": ""},
    {"start": "00:04", "end": "00:08", "title": "Green", "summary": "Green.", "speech": "Hi"},
    {"start": "00:08", "end": "00:30", "title": "Blue", "summary": "Blue.", "speech": "Bye"},
]
HOUR = [
    {"start": "0:00", "end": "20:00", "title": "Opening", "summary": "Intro.", "speech": ""},
    {"start": "20:00", "end": "61:00", "title": "Talk", "summary": "Talk.", "speech": ""},
    {"start": "61:00", "end": "75:10", "title": "Questions", "summary": "Q&A.", "speech": ""},
    {"start": "61:00", "end": "75:10", "title": "Questions again", "summary": "", "speech": ""},
]


def open_page():
    app = start_app()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def open_page_served():
    """The page as `make run` serves it: with the media route, so videos play in the player."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.secrets[media_preview.ROUTE_FLAG] = True
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def players(app) -> list[dict]:
    """What each player on the page was given, as the browser gets it."""
    elements = app.get("bidi_component")
    return [json.loads(e.proto.json) for e in elements if e.proto.component_name.endswith("player")]


def upload(app, data, name="scenes.mp4"):
    uploader = next(
        u for u in app.get("file_uploader") if u.key.startswith("chapters.sources.uploads")
    )
    uploader.upload(name, data, "video/mp4")
    app.run()


def add_link(app, link):
    app.text_input(key="chapters.sources.link_text").input(link)
    app.button(key="chapters.sources.add_link").click().run()


def get_chapters(app):
    """Press the mode's button, let the worker finish, and look again."""
    next(b for b in app.button if b.label.startswith("Get ")).click().run()
    for run_id, _mode in app.session_state["chapters.runs"].values():
        assert registry().get(run_id).wait_done(20)
    app.run()
    assert not app.exception, app.exception


def downloads(app) -> dict[str, str]:
    return {d.label: d.proto.label for d in app.get("download_button")}


def test_the_page_is_in_the_navigation_and_asks_for_a_video(connected):
    app = open_page()
    assert app.title[0].value == "Chapters"
    assert next(b for b in app.button if b.label.startswith("Get ")).disabled


def test_uploaded_video_gets_checked_chapters_and_exports(connected, vertex, video_file):
    vertex.set_reply(f"```json\n{json.dumps({'chapters': CHAPTERS})}\n```", chunks=5)
    app = open_page()
    upload(app, video_file.read_bytes())
    get_chapters(app)

    sent = vertex.last_request("streamGenerateContent").generation_config
    assert sent["responseMimeType"] == "application/json"
    assert "chapters" in sent["responseSchema"]["properties"]
    shown = texts(app.markdown)
    assert "Red" in shown and "Green" in shown and "Blue" in shown
    # the last chapter ran past the probed 12 s: clamped, and said
    assert "clamped to 0:12" in texts(app.warning)
    labels = [d.label for d in app.get("download_button")]
    assert labels == ["WebVTT", "SRT", "Markdown", "JSON", "YouTube"]
    # 3 chapters of 4 s: YouTube's 10 s rule cannot be met, and the page says why
    assert "at least 10 s" in texts(app.caption)


def test_a_gs_link_has_no_probe_and_the_check_says_so(connected, vertex):
    vertex.set_reply(json.dumps({"chapters": HOUR}), chunks=3)
    app = open_page()
    add_link(app, "gs://bucket/talk.mp4")
    get_chapters(app)
    assert "not probed here" in texts(app.info) and "1:15:10" in texts(app.info)
    assert "merged into one" in texts(app.warning)  # the duplicate at 61:00
    captions = texts(app.caption)
    assert "1:01:00–1:15:10" in captions  # beyond 60:00 shown as H:MM:SS
    assert "uploaded videos only" in captions  # no shot cuts for a link


def test_one_player_of_the_video_with_the_list_in_it(connected, vertex, video_file):
    hostile = [{**CHAPTERS[0], "title": "<img src=x onerror=alert(1)>Red"}, *CHAPTERS[1:]]
    vertex.set_reply(json.dumps({"chapters": hostile}), chunks=3)
    app = open_page_served()
    upload(app, video_file.read_bytes())
    assert len(players(app)) == 1  # not the picker's preview as well as the page's player
    get_chapters(app)
    (data,) = players(app)
    items = data["items"]
    assert [i["title"] for i in items] == ["<img src=x onerror=alert(1)>Red", "Green", "Blue"]
    assert [i["start_s"] for i in items] == [0.0, 4.0, 8.0]
    green = items[1]
    assert (green["time"], green["summary"], green["speech"]) == ("0:04", "Green.", "Said: Hi")
    assert green["details"].startswith("0:04–0:08")
    assert [c[2] for c in data["chapters"]] == [i["title"] for i in items]
    assert data["report_every_s"] is None  # nothing the player does reruns the page
    assert data["report_duration"] is False  # an upload's length is probed
    assert not [b for b in app.button if b.label == "0:04"]  # no Streamlit buttons: no rerun


def test_a_gs_video_is_checked_against_the_length_the_player_read(connected, vertex):
    vertex.set_reply(json.dumps({"chapters": CHAPTERS}), chunks=3)  # the answer runs to 0:30
    app = open_page_served()
    add_link(app, "gs://bucket/scenes.mp4")
    get_chapters(app)
    (data,) = players(app)
    assert data["report_duration"] is True
    assert "answer's own last timestamp, 0:30" in texts(app.info)
    report = {"media": data["media_id"], "seconds": 12.0}
    app.session_state["chapters.player"] = {"status": None, "duration": report}
    app.run()
    assert not app.exception, app.exception
    assert "its length, 0:12, is the one the player read" in texts(app.info)
    assert "last timestamp" not in texts(app.info)
    assert "clamped to 0:12" in texts(app.warning)
    assert players(app)[0]["chapters"][-1][:2] == [8.0, 12.0]


def test_a_point_clicked_on_the_timeline_seeks_in_the_same_run(connected, vertex, video_file):
    vertex.set_reply(json.dumps({"chapters": CHAPTERS}), chunks=3)
    app = open_page_served()
    upload(app, video_file.read_bytes())
    get_chapters(app)
    assert players(app)[0]["seek"] is None
    timeline = f"chapters.timeline.sha256:{hashlib.sha256(video_file.read_bytes()).hexdigest()}"
    app.session_state[timeline] = {"selection": {"points": [{"customdata": 4.0}]}}
    app.run()
    assert not app.exception, app.exception
    assert players(app)[0]["seek"]["to"] == 4.0


def test_a_cut_stream_keeps_the_chapters_so_far(connected, vertex, video_file):
    vertex.set_reply(json.dumps({"chapters": CHAPTERS}), chunks=10)
    vertex.cut_stream(after_chunks=6)
    app = open_page()
    upload(app, video_file.read_bytes())
    get_chapters(app)
    assert "received so far are kept" in texts(app.warning)
    assert "Red" in texts(app.markdown)


def test_an_edited_prompt_is_saved_as_my_mode(connected, vertex):
    app = open_page()
    app.selectbox(key="chapters.mode.mode").select("moments").run()
    app.text_area(key="chapters.mode.prompt.moments").input("Only goals.").run()
    app.text_input(key="chapters.mode.new_name").input("Goals").run()
    app.button(key="chapters.mode.save").click().run()
    assert not app.exception, app.exception
    assert "Saved 'Goals'" in texts(app.success)
    assert app.selectbox(key="chapters.mode.mode").value == "user:goals"
    assert app.text_area(key="chapters.mode.prompt.user:goals").value == "Only goals."
    fresh = open_page()  # a new session reads the saved mode from the store
    assert "Goals (yours)" in fresh.selectbox(key="chapters.mode.mode").options


def test_a_chart_answer_shows_its_quantity_unit_and_notes_sanitised(connected, vertex, video_file):
    """The model names the chart's quantity and unit and writes its notes: all untrusted."""
    answer = {
        "quantity": "![q](http://127.0.0.1:9/q.png) people",
        "unit": ":red[count] <img src=http://127.0.0.1:9/u>",
        "points": [{"time": "00:01", "value": 2, "note": "<b>two</b> ![n](http://127.0.0.1:9/n)"}],
    }
    vertex.set_reply(json.dumps(answer), chunks=3)
    app = open_page()
    app.selectbox(key="chapters.mode.mode").select("people").run()
    upload(app, video_file.read_bytes())
    get_chapters(app)
    chart = "Chart: [q](http://127.0.0.1:9/q.png) people (\\:red[count] \\<img src=http://127.0.0.1:9/u>)"
    assert chart in texts(app.caption)
    timeline = [c for c in app.get("plotly_chart") if "chapters.timeline" in c.proto.id]
    hovers = json.loads(timeline[0].proto.spec)["data"][0]["hovertext"]
    assert hovers == ["0:01: 2 &lt;b&gt;two&lt;/b&gt; ![n](http://127.0.0.1:9/n)"]


def test_the_youtube_notes_quote_the_models_titles_sanitised(connected, vertex, video_file):
    """Why no YouTube list is offered names each short chapter by its (untrusted) title."""
    hostile = "![t](http://127.0.0.1:9/t.png) :streamlit:"
    chapters = [{**CHAPTERS[0], "title": hostile}, CHAPTERS[1]]
    vertex.set_reply(json.dumps({"chapters": chapters}), chunks=3)
    app = open_page()
    upload(app, video_file.read_bytes())
    get_chapters(app)
    notes = texts(app.caption)
    assert "'[t](http://127.0.0.1:9/t.png) :\u2060streamlit:' (0:00) lasts 4 s" in notes
    assert "![t]" not in notes


def test_a_data_folders_old_modes_file_shows_as_my_modes(connected, vertex, tmp_path):
    """Modes kept in `chapter_modes.json` before the database are imported when the page opens
    the store, and the file is kept beside, renamed."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    mode = {"id": "user:fouls", "name": "Fouls", "kind": "events", "prompt": "List the fouls."}
    (data / MODES_FILENAME).write_text(json.dumps([mode]))
    app = open_page()
    app.selectbox(key="chapters.mode.mode").select("user:fouls").run()
    assert app.text_area(key="chapters.mode.prompt.user:fouls").value == "List the fouls."
    assert (data / f"{MODES_FILENAME}.imported").exists() and not (data / MODES_FILENAME).exists()


def test_without_a_history_the_built_in_modes_still_work(connected, vertex, tmp_path):
    """A history database from a newer Reelscope cannot be opened: no saved modes, and Save
    says why instead of failing."""
    data = tmp_path / "data"
    db = SharedDatabase(sqlite_url(data / STORE_FILENAME), SCHEMA)
    with db.transaction() as tx:
        tx.execute(f"UPDATE {db.version_table} SET version_num = '9999'")
    db.close()
    app = open_page()
    options = app.selectbox(key="chapters.mode.mode").options
    assert options == [m.name for m in BUILTIN_MODES]
    assert "run history, which cannot be opened" in texts(app.warning)
