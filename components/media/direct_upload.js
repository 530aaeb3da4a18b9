// The browser half of components/media/direct_upload.py: sends one file straight to a Cloud
// Storage resumable upload session, in chunks, with progress, resuming after a dropped chunk.
//
// Protocol (Cloud Storage JSON API, resumable uploads): each chunk is a PUT to the session URL
// with `Content-Range: bytes START-END/TOTAL`; every chunk but the last is a multiple of
// 256 KiB. 308 means "more, please", its `Range: bytes=0-N` says what is persisted; 200/201
// means the object is complete. After a failed chunk (network drop, 5xx, 429) the client asks
// with an empty PUT `Content-Range: bytes */TOTAL` and continues from the persisted offset,
// which may be inside the chunk it was sending.
//
// It talks to Streamlit only through trigger values: "request" (asks the server for a session:
// name, size, type, origin), "done", "failed", "cancelled"; the server answers in `data.answer`
// (a session URL or a refusal) and `data.result` (what the library made of the file). Each
// upload carries a nonce, so an answer is applied once and a stale one never.

const uploaders = new Map(); // component root -> its uploader, across reruns
const RETRIES = 6; // consecutive failures without progress before giving up
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const ASK_AGAIN = 4; // times a session is asked for again before giving up
const ASK_AGAIN_MS = 5000;

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let uploader = uploaders.get(parentElement);
  if (!uploader) {
    uploader = makeUploader(parentElement);
    uploaders.set(parentElement, uploader);
  }
  uploader.trigger = setTriggerValue;
  uploader.update(data || {});
  return uploader.cleanup;
}

function makeUploader(root) {
  const input = root.querySelector(".ru-file");
  const bar = root.querySelector(".ru-progress");
  const status = root.querySelector(".ru-status");
  const cancel = root.querySelector(".ru-cancel");
  const u = { trigger: null, data: {}, current: null };

  const say = (text, kind) => {
    status.textContent = text; // file names are the user's: text, never HTML
    status.dataset.kind = kind || "";
  };
  const busy = (on) => {
    input.disabled = on;
    cancel.hidden = !on;
    bar.hidden = !on;
  };

  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file || !u.trigger) return;
    const nonce = crypto.randomUUID();
    u.current = { file, nonce, phase: "asking", url: null, xhr: null, cancelled: false };
    busy(true);
    bar.value = 0;
    say(`Asking for an upload of ${file.name}…`);
    const request = {
      nonce,
      name: file.name,
      size: file.size,
      type: file.type,
      origin: window.location.origin,
    };
    u.trigger("request", request);
    askAgain(u.current, request, 0);
  });

  // A trigger can go unheard (sent while the page is being redrawn): ask again, with the same
  // nonce, while no answer has come; the server opens one session per nonce.
  function askAgain(cur, request, times) {
    setTimeout(() => {
      if (cur !== u.current || cur.phase !== "asking") return;
      if (times >= ASK_AGAIN) {
        cur.phase = "failed";
        busy(false);
        input.value = "";
        say("The server did not answer. Reload the page and try again.", "error");
        return;
      }
      u.trigger("request", request);
      askAgain(cur, request, times + 1);
    }, ASK_AGAIN_MS);
  }

  cancel.addEventListener("click", () => {
    const cur = u.current;
    if (!cur || (cur.phase !== "asking" && cur.phase !== "sending")) return;
    cur.cancelled = true;
    cur.phase = "cancelled";
    if (cur.xhr) cur.xhr.abort();
    busy(false);
    input.value = "";
    // Nothing is finalized: Cloud Storage drops the unfinished session after a week.
    say(`Upload of ${cur.file.name} cancelled; nothing was stored.`, "info");
    if (u.trigger) u.trigger("cancelled", { nonce: cur.nonce });
  });

  function put(cur, body, range, base) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest(); // fetch() reports no upload progress
      cur.xhr = xhr;
      xhr.open("PUT", cur.url);
      xhr.setRequestHeader("Content-Range", range);
      if (body) {
        xhr.upload.onprogress = (event) => progress(cur, base + event.loaded);
      }
      xhr.onload = () => resolve({ status: xhr.status, range: xhr.getResponseHeader("Range") });
      xhr.onerror = () => reject(new Error("network"));
      xhr.ontimeout = () => reject(new Error("timeout"));
      xhr.onabort = () => reject(new Error("aborted"));
      xhr.send(body);
    });
  }

  // The byte after the last one persisted, from a 308's Range header (none: nothing yet).
  const nextOffset = (range) => {
    const match = /^bytes=0-(\d+)$/.exec(range || "");
    return match ? Number(match[1]) + 1 : 0;
  };

  function progress(cur, sent) {
    const total = cur.file.size;
    const done = Math.min(sent, total);
    bar.value = total ? done / total : 1;
    say(`Uploading ${cur.file.name}: ${mb(done)} of ${mb(total)} (${Math.floor((done / total) * 100)}%)`);
  }

  async function send(cur) {
    const total = cur.file.size;
    const chunk = u.data.chunk_bytes;
    let offset = 0;
    let best = 0; // the furthest the session has confirmed: failures count until it grows
    let failures = 0;
    let ask = false; // after a failure: ask the session what it has before sending more
    while (!cur.cancelled) {
      let reply;
      try {
        if (ask) {
          reply = await put(cur, null, `bytes */${total}`, offset);
        } else {
          const end = Math.min(offset + chunk, total);
          reply = await put(cur, cur.file.slice(offset, end), `bytes ${offset}-${end - 1}/${total}`, offset);
        }
      } catch (error) {
        if (cur.cancelled) return;
        reply = { status: 0 }; // the connection dropped
      }
      if (reply.status === 200 || reply.status === 201) {
        progress(cur, total);
        finished(cur);
        return;
      }
      if (reply.status === 308) {
        offset = nextOffset(reply.range);
        if (offset > best) {
          best = offset;
          failures = 0;
        }
        ask = false;
        progress(cur, offset);
        continue;
      }
      // A chunk the session refuses (400) may have been sent again by the browser's own retry
      // over a dropped connection, after part of it was kept: the session's status says where
      // to go on. Any other refusal ends the upload.
      const resumable = reply.status === 0 || RETRYABLE.has(reply.status) || (reply.status === 400 && !ask);
      if (!resumable) {
        fail(cur, `Cloud Storage refused the upload (HTTP ${reply.status}). Upload it again.`);
        return;
      }
      failures += 1;
      if (failures > RETRIES) {
        fail(cur, `The connection to Cloud Storage kept failing at ${mb(offset)}. Upload it again.`);
        return;
      }
      ask = true;
      say(`Connection lost at ${mb(offset)}; resuming ${cur.file.name}…`, "info");
      await pause(Math.min(8000, 250 * 2 ** failures)); // back off: the network may be down
    }
  }

  function finished(cur) {
    cur.phase = "checking";
    cancel.hidden = true;
    say(`${cur.file.name} is in Cloud Storage; adding it to your library…`);
    u.trigger("done", { nonce: cur.nonce });
  }

  function fail(cur, message) {
    cur.phase = "failed";
    busy(false);
    input.value = "";
    say(message, "error");
    if (u.trigger) u.trigger("failed", { nonce: cur.nonce, message });
  }

  u.update = (data) => {
    u.data = data;
    const cur = u.current;
    if (!cur) return;
    const answer = data.answer;
    if (cur.phase === "asking" && answer && answer.nonce === cur.nonce) {
      if (answer.error) {
        cur.phase = "failed";
        busy(false);
        input.value = "";
        say(answer.error, "error");
        return;
      }
      cur.phase = "sending";
      cur.url = answer.url;
      progress(cur, 0);
      send(cur);
    }
    const result = data.result;
    if (cur.phase === "checking" && result && result.nonce === cur.nonce) {
      cur.phase = result.error ? "failed" : "added";
      busy(false);
      input.value = "";
      say(result.error || result.message, result.error ? "error" : "success");
    }
  };

  u.cleanup = () => {
    // Called when the component leaves the page: an upload in flight stops with it.
    queueMicrotask(() => {
      const host = root.host || root;
      if (host.isConnected) return; // only a rerun: keep going
      const cur = u.current;
      if (cur && cur.phase === "sending") {
        cur.cancelled = true;
        if (cur.xhr) cur.xhr.abort();
      }
      uploaders.delete(root);
    });
  };
  return u;
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
