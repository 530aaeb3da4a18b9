"""The seekable player: a <video> with a timeline of chapters, shot cuts and a clip range, and
under it, optionally, a list of items (chapters, moments, captions…) that seek when clicked.

One Components v2 component (inline HTML/CSS/JS, no build step). What st.video cannot do:
seek in the browser at once when a chapter is clicked (on the timeline or in the list: no
script run in between), seek again when the same chapter is clicked twice, mark the item
playing now, report the current time and the video's length back, keep playback inside a
clip, and load a long video in ranges from the media route.

How a page drives it:

    player.show("ch.player", url, mime_type="video/mp4", chapters=[(0, 12.5, "Intro"), ...],
                items=[ListItem(0.0, "0:00", "Intro", summary="…")])

Seeks asked from Python (a click on a Plotly chart, say) go through `seek(key, t)`: it records
a request with a fresh nonce; the next `show(key, ...)` hands it to the browser, which applies
each nonce once (so the same spot asked twice seeks twice, and a rerun or a remount never seeks
again). Call `seek` in a callback or before `show` in the run.

The browser reports `{time, playing}` back at most every `report_every_s` seconds while playing
and at once on seek, play, pause, end and when the current chapter changes; each report reruns
the page (or only the fragment the player is in). `report_every_s=None` reports nothing.
`report_duration=True` reports the video's length once it is loaded (one rerun), for a video
this server has not probed; `reported_length` reads it.
Every text is set with textContent in the browser: model-written text is never parsed as HTML.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import streamlit as st

Segment = tuple[float, float, str]  # start s, end s, title
Clip = tuple[float, float]  # start s, end s


@dataclass(frozen=True)
class PlayerState:
    """What the browser last reported: None before it reported anything."""

    time_s: float | None = None
    playing: bool = False


@dataclass(frozen=True)
class ListItem:
    """One row of the list under the video; a click on its time seeks to `start_s` and plays.

    Shown as text, never as HTML or Markdown. `details`: a small line under the title (its
    span, the distance to the nearest cut); `speech`: what is said, already labelled.
    """

    start_s: float
    time: str
    title: str
    value: str = ""
    details: str = ""
    summary: str = ""
    speech: str = ""


_HTML = """
<div class="rs-player">
  <video class="rs-video" controls playsinline preload="metadata"></video>
  <div class="rs-timeline" title="Click to seek">
    <div class="rs-clip" hidden></div>
    <div class="rs-chapters"></div>
    <div class="rs-cuts"></div>
    <div class="rs-playhead"></div>
  </div>
  <div class="rs-note" aria-live="polite"></div>
  <div class="rs-now"></div>
  <ol class="rs-list"></ol>
</div>
"""

_CSS = """
.rs-player { font-family: var(--st-font, sans-serif); color: var(--st-text-color, inherit); }
.rs-video { display: block; width: 100%; max-height: var(--rs-max-height, 70vh);
  background: #000; border-radius: var(--st-base-radius, 0.5rem); }
.rs-timeline { position: relative; height: 28px; margin-top: 6px; cursor: pointer;
  background: var(--st-secondary-background-color, #262730);
  border-radius: var(--st-base-radius, 0.5rem); overflow: hidden; }
.rs-clip { position: absolute; top: 0; bottom: 0; pointer-events: none;
  background: color-mix(in srgb, var(--st-primary-color, #8ab4f8) 22%, transparent);
  border-left: 2px solid var(--st-primary-color, #8ab4f8);
  border-right: 2px solid var(--st-primary-color, #8ab4f8); }
.rs-chapters { position: absolute; inset: 0; }
.rs-chapter { position: absolute; top: 3px; bottom: 3px; margin: 0; padding: 0 4px;
  border: 0; border-left: 1px solid var(--st-background-color, #0e1117);
  background: color-mix(in srgb, var(--st-text-color, #fafafa) 14%, transparent);
  color: inherit; font: inherit; font-size: 11px; line-height: 22px; text-align: left;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: pointer; }
.rs-chapter:hover {
  background: color-mix(in srgb, var(--st-text-color, #fafafa) 26%, transparent); }
.rs-chapter.rs-current { background: var(--st-primary-color, #8ab4f8);
  color: var(--st-background-color, #0e1117); font-weight: 600; }
.rs-cuts { position: absolute; inset: 0; pointer-events: none; }
.rs-cut { position: absolute; top: 0; width: 1px; height: 7px;
  background: var(--st-text-color, #fafafa); opacity: 0.7; }
.rs-playhead { position: absolute; top: 0; bottom: 0; width: 2px; left: 0;
  background: var(--st-primary-color, #8ab4f8); pointer-events: none; }
.rs-note { font-size: 0.85em; opacity: 0.8; min-height: 0; }
.rs-note:not(:empty) { margin-top: 4px; }
.rs-now { font-size: 0.875em; opacity: 0.7; }
.rs-now:not(:empty) { margin-top: 6px; }
.rs-list { list-style: none; margin: 0; padding: 0; }
.rs-list:not(:empty) { margin-top: 12px; }
.rs-item { display: grid; grid-template-columns: minmax(5.5em, 1fr) 7fr; column-gap: 1rem;
  align-items: start; margin-bottom: 0.9rem; }
.rs-seek { width: 100%; min-height: 2.5rem; padding: 0.25rem 0.75rem; cursor: pointer;
  font: inherit; font-variant-numeric: tabular-nums; color: inherit;
  background: var(--st-background-color, #0e1117);
  border: 1px solid var(--st-border-color, rgba(250, 250, 250, 0.2));
  border-radius: var(--st-button-radius, 0.5rem); }
.rs-seek:hover { border-color: var(--st-primary-color, #8ab4f8);
  color: var(--st-primary-color, #8ab4f8); }
.rs-seek:focus-visible { outline: 2px solid var(--st-primary-color, #8ab4f8);
  outline-offset: 2px; }
.rs-playing .rs-seek, .rs-playing .rs-seek:hover { background: var(--st-primary-color, #8ab4f8);
  border-color: var(--st-primary-color, #8ab4f8); color: var(--st-background-color, #0e1117); }
.rs-text { min-width: 0; overflow-wrap: anywhere; }
.rs-title { font-weight: 600; }
.rs-value { font-weight: 400; }
.rs-playing .rs-title::before { content: "▶ "; }
.rs-details, .rs-speech { font-size: 0.875em; opacity: 0.7; }
.rs-summary { margin-top: 0.25rem; }
"""

_JS = r"""
const applied = new Map();     // player key -> last seek nonce applied, across remounts
const players = new WeakMap(); // parentElement -> its player

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let player = players.get(parentElement);
  if (!player) {
    player = makePlayer(parentElement);
    players.set(parentElement, player);
  }
  player.setState = setStateValue;
  player.update(data || {});
  return player.cleanup;
}

function makePlayer(root) {
  const video = root.querySelector(".rs-video");
  const timeline = root.querySelector(".rs-timeline");
  const clipBox = root.querySelector(".rs-clip");
  const chapterBox = root.querySelector(".rs-chapters");
  const cutBox = root.querySelector(".rs-cuts");
  const playhead = root.querySelector(".rs-playhead");
  const note = root.querySelector(".rs-note");
  const nowLine = root.querySelector(".rs-now");
  const list = root.querySelector(".rs-list");
  const p = {
    setState: null, data: {}, mediaId: null, url: null, latestUrl: null,
    chapters: [], cuts: [], items: [], clip: null, captions: null, trackUrl: null,
    pending: null, lastReport: 0, reportTimer: null, current: -1, playing: -1, frame: 0,
    lengthSent: null,
  };

  const total = () => {
    if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
    const ends = p.chapters.map((c) => c[1]).concat(p.cuts, p.clip ? [p.clip[1]] : []);
    return Math.max(0, ...ends);
  };
  const pct = (t) => {
    const d = total();
    return d > 0 ? `${Math.min(100, Math.max(0, (t / d) * 100))}%` : "0%";
  };
  const clamp = (t) => {
    if (!Number.isFinite(t)) return 0;
    if (p.clip) return Math.min(Math.max(t, p.clip[0]), p.clip[1]);
    return Math.max(0, t);
  };

  function report(force) {
    const every = p.data.report_every_s;
    if (every === null || every === undefined || !p.setState) return;
    const now = performance.now();
    if (force) {
      // Coalesce the burst a seek makes (seeking, seeked, play) into one report: one rerun.
      clearTimeout(p.reportTimer);
      p.reportTimer = setTimeout(send, 60);
    } else if (now - p.lastReport >= every * 1000) {
      send();
    }
  }
  function send() {
    p.lastReport = performance.now();
    p.setState("status", {
      time: Math.round(video.currentTime * 1000) / 1000,
      playing: !video.paused && !video.ended,
    });
  }

  // Once per video and mount: the page checks the answer against this length (one rerun).
  function reportLength() {
    const seconds = video.duration;
    if (!p.data.report_duration || !p.setState || !Number.isFinite(seconds) || seconds <= 0) {
      return;
    }
    const length = { media: p.mediaId, seconds: Math.round(seconds * 1000) / 1000 };
    const sent = JSON.stringify(length);
    if (sent === p.lengthSent) return;
    p.lengthSent = sent;
    p.setState("duration", length);
  }

  function seekTo(t, play) {
    const target = clamp(t);
    if (video.readyState < 1) {
      p.pending = { t: target, play };
    } else {
      video.currentTime = target;
      if (play) video.play().catch(() => {});
    }
    drawPlayhead(target);
  }

  function drawPlayhead(t) {
    const at = t === undefined ? video.currentTime : t;
    playhead.style.left = pct(at);
    const index = p.chapters.findIndex((c) => at >= c[0] && at < c[1]);
    if (index !== p.current) {
      const previous = chapterBox.children[p.current];
      if (previous) previous.classList.remove("rs-current");
      const next = chapterBox.children[index];
      if (next) next.classList.add("rs-current");
      const changed = p.current !== -1 || index !== -1;
      p.current = index;
      if (changed) report(true);
    }
    markPlaying(at);
  }

  // The list marks the item playing now: the last one started by then.
  function markPlaying(at) {
    let index = -1;
    while (index + 1 < p.items.length && p.items[index + 1].start_s <= at + 0.001) index += 1;
    if (index !== p.playing) {
      const previous = list.children[p.playing];
      if (previous) {
        previous.classList.remove("rs-playing");
        previous.removeAttribute("aria-current");
      }
      const next = list.children[index];
      if (next) {
        next.classList.add("rs-playing");
        next.setAttribute("aria-current", "true");
      }
      p.playing = index;
    }
    const now = index >= 0 ? `At ${clock(at)}: ${p.items[index].title}` : "";
    if (nowLine.textContent !== now) nowLine.textContent = now;  // text, never HTML
  }

  function listItem(item, index) {
    const row = document.createElement("li");
    row.className = "rs-item";
    const seek = document.createElement("button");
    seek.type = "button";
    seek.className = "rs-seek";
    seek.dataset.index = String(index);
    seek.textContent = item.time;
    seek.title = "Play from here";
    const body = document.createElement("div");
    body.className = "rs-text";
    const title = textLine("rs-title", item.title);
    if (item.value) title.append(textLine("rs-value", ` · ${item.value}`, "span"));
    body.append(title);
    for (const [name, value] of [
      ["rs-details", item.details], ["rs-summary", item.summary], ["rs-speech", item.speech],
    ]) {
      if (value) body.append(textLine(name, value));
    }
    row.append(seek, body);
    return row;
  }

  function layout() {
    chapterBox.replaceChildren(...p.chapters.map((c, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "rs-chapter";
      b.dataset.index = String(i);
      b.style.left = pct(c[0]);
      b.style.width = `calc(${pct(c[1])} - ${pct(c[0])})`;
      b.textContent = c[2];  // model-written: text, never HTML
      b.title = `${clock(c[0])} ${c[2]}`;
      b.setAttribute("aria-label", `Play from ${clock(c[0])}: ${c[2]}`);
      return b;
    }));
    cutBox.replaceChildren(...p.cuts.map((t) => {
      const tick = document.createElement("div");
      tick.className = "rs-cut";
      tick.style.left = pct(t);
      tick.title = `cut ${clock(t)}`;
      return tick;
    }));
    list.replaceChildren(...p.items.map(listItem));
    p.playing = -1;
    clipBox.hidden = !p.clip;
    if (p.clip) {
      clipBox.style.left = pct(p.clip[0]);
      clipBox.style.width = `calc(${pct(p.clip[1])} - ${pct(p.clip[0])})`;
    }
    p.current = -1;
    drawPlayhead();
  }

  function setCaptions(text) {
    if (text === p.captions) return;
    p.captions = text;
    for (const old of video.querySelectorAll("track")) old.remove();
    if (p.trackUrl) URL.revokeObjectURL(p.trackUrl);
    p.trackUrl = null;
    if (!text) return;
    p.trackUrl = URL.createObjectURL(new Blob([text], { type: "text/vtt" }));
    const track = document.createElement("track");
    track.kind = "captions";
    track.label = "Captions";
    track.srclang = "en";
    track.src = p.trackUrl;
    track.default = true;
    video.appendChild(track);
  }

  function load(data) {
    p.mediaId = data.media_id;
    p.url = p.latestUrl = data.url;
    note.textContent = "";
    if (data.mime_type && video.canPlayType(data.mime_type) === "") {
      note.textContent = `This browser may not play ${data.mime_type}; the model still gets it.`;
    }
    const start = data.start ?? (data.clip ? data.clip[0] : null);
    p.pending = start !== null && start !== undefined ? { t: start, play: false } : null;
    video.src = data.url;
  }

  // A click seeks in the browser at once: a chapter from its start, elsewhere from that point.
  timeline.addEventListener("click", (event) => {
    const chapter = event.target.closest(".rs-chapter");
    if (chapter) {
      seekTo(p.chapters[Number(chapter.dataset.index)][0], true);
      return;
    }
    const box = timeline.getBoundingClientRect();
    if (box.width > 0) seekTo(((event.clientX - box.left) / box.width) * total(), true);
  });
  // A click on an item's time (or Enter / Space on it) seeks at once, in the browser.
  list.addEventListener("click", (event) => {
    const seek = event.target.closest(".rs-seek");
    if (seek) seekTo(p.items[Number(seek.dataset.index)].start_s, true);
  });

  video.addEventListener("loadedmetadata", () => {
    reportLength();
    layout();
    if (p.pending) {
      const { t, play } = p.pending;
      p.pending = null;
      seekTo(t, play);
    }
  });
  video.addEventListener("timeupdate", () => {
    drawPlayhead();
    if (!video.paused) report(false);
  });
  video.addEventListener("seeking", () => {
    if (p.clip && (video.currentTime < p.clip[0] || video.currentTime > p.clip[1])) {
      video.currentTime = clamp(video.currentTime);
    }
    drawPlayhead();
  });
  video.addEventListener("durationchange", reportLength);
  video.addEventListener("seeked", () => report(true));
  video.addEventListener("pause", () => report(true));
  video.addEventListener("ended", () => report(true));
  video.addEventListener("play", () => {
    if (p.clip && (video.currentTime < p.clip[0] || video.currentTime >= p.clip[1] - 0.05)) {
      video.currentTime = p.clip[0];
    }
    report(true);
    watchClipEnd();
  });
  video.addEventListener("error", () => {
    // A link expired while the page stayed open: take the newest one and carry on.
    if (p.latestUrl && p.latestUrl !== p.url) {
      const at = video.currentTime;
      p.url = p.latestUrl;
      p.pending = { t: at, play: !video.paused };
      video.src = p.url;
      return;
    }
    note.textContent =
      "This video could not be loaded. Reload the page; if that does not help, add it again.";
  });

  // timeupdate fires only every ~250 ms: watch each frame so a clip stops at its end.
  function watchClipEnd() {
    cancelAnimationFrame(p.frame);
    const tick = () => {
      if (video.paused || !p.clip) return;
      if (video.currentTime >= p.clip[1]) {
        video.pause();
        video.currentTime = p.clip[1];
        return;
      }
      drawPlayhead();
      p.frame = requestAnimationFrame(tick);
    };
    p.frame = requestAnimationFrame(tick);
  }

  p.update = (data) => {
    p.data = data;
    video.style.setProperty("--rs-max-height", data.height ? `${data.height}px` : "70vh");
    const shape = JSON.stringify([data.chapters, data.cuts, data.clip, data.items]);
    if (shape !== p.shape) {
      p.shape = shape;
      p.chapters = data.chapters || [];
      p.cuts = data.cuts || [];
      p.items = data.items || [];
      p.clip = data.clip || null;
      layout();
    }
    setCaptions(data.captions || null);
    if (data.media_id !== p.mediaId) load(data);
    else p.latestUrl = data.url;
    if (video.readyState >= 1) reportLength();
    const seek = data.seek;
    if (seek && applied.get(data.id) !== seek.nonce) {
      applied.set(data.id, seek.nonce);
      seekTo(seek.to, true);
    }
  };
  p.cleanup = () => {
    cancelAnimationFrame(p.frame);
    clearTimeout(p.reportTimer);
    if (p.trackUrl) URL.revokeObjectURL(p.trackUrl);
    video.removeAttribute("src");
    video.load();  // stop downloading when the player goes away
    players.delete(root);
  };
  return p;
}

function textLine(className, text, tag = "div") {
  const line = document.createElement(tag);
  line.className = className;
  line.textContent = text;  // model-written: text, never HTML
  return line;
}

function clock(t) {
  const s = Math.max(0, Math.floor(t));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
"""

_player = st.components.v2.component("reelscope.player", html=_HTML, css=_CSS, js=_JS)


def show(
    key: str,
    url: str,
    *,
    mime_type: str,
    chapters: Sequence[Segment] = (),
    clip: Clip | None = None,
    cuts: Sequence[float] = (),
    captions: str | None = None,
    start: float | None = None,
    height: int | None = None,
    media_id: str | None = None,
    items: Sequence[ListItem] = (),
    report_every_s: float | None = 1.0,
    report_duration: bool = False,
) -> PlayerState:
    """Draw the player and return what the browser last reported.

    url: what the browser loads (a signed media link, or a vetted https URL).
    chapters: (start s, end s, title); clicking one seeks to its start and plays.
    clip: (start s, end s): shaded, and playback starts at its start and stops at its end.
    cuts: shot-cut times, drawn as ticks. captions: WebVTT text, shown as a captions track.
    start: where a newly loaded video starts. height: the video's maximum height in pixels.
    media_id: what the video is (default: the URL); the video reloads only when it changes,
    so a re-signed URL for the same video does not interrupt playback.
    items: the list under the video, in order of start; a click on one seeks in the browser.
    report_duration: report the video's length once loaded (see `reported_length`).
    """
    request = st.session_state.get(_seek_key(key))
    data = {
        "id": key,
        "media_id": media_id or url,
        "url": url,
        "mime_type": mime_type,
        "chapters": [[_seconds(s), _seconds(e), str(title)] for s, e, title in chapters],
        "cuts": [_seconds(t) for t in cuts],
        "clip": [_seconds(clip[0]), _seconds(clip[1])] if clip else None,
        "captions": captions,
        "start": _seconds(start) if start is not None else None,
        "height": height,
        "items": [{**asdict(item), "start_s": _seconds(item.start_s)} for item in items],
        "seek": request,
        "report_every_s": report_every_s,
        "report_duration": report_duration,
    }
    result = _player(
        key=key,
        data=data,
        default={"status": None, "duration": None},
        on_status_change=_ignore,
        on_duration_change=_ignore,
    )
    return _state(result.get("status"))


def reported_length(key: str, media_id: str) -> float | None:
    """The length in seconds the browser read from video `media_id` in player `key`, drawn with
    `report_duration=True`; None until it has loaded (or while another video is reported).

    Readable before `show` in a run, so a page can check an answer against it first.
    """
    state = st.session_state.get(key)
    report = state.get("duration") if isinstance(state, Mapping) else None
    if not isinstance(report, Mapping) or report.get("media") != media_id:
        return None
    seconds = report.get("seconds")  # from the browser: a number, or nothing
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return float(seconds) if math.isfinite(seconds) else None
    return None


def seek(key: str, to_s: float) -> None:
    """Ask the player `key` to seek to `to_s` and play; each call seeks, even to the same time."""
    st.session_state[_seek_key(key)] = {"to": _seconds(to_s), "nonce": uuid.uuid4().hex}


def _seek_key(key: str) -> str:
    return f"{key}.seek"


def _seconds(value: float) -> float:
    number = float(value)
    return round(number, 3) if math.isfinite(number) and number > 0 else 0.0


def _state(status: object) -> PlayerState:
    if not isinstance(status, dict):
        return PlayerState()
    time_s = status.get("time")
    return PlayerState(
        time_s=float(time_s) if isinstance(time_s, int | float) else None,
        playing=bool(status.get("playing")),
    )


def _ignore() -> None:
    """State needs a callback to be reported back to Python; the page reads the result."""
