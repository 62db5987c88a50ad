/* global fetch, location, history, sessionStorage, Image, URL, TextDecoderStream -- browser globals */
// The labelling page's calls to the server: JSON in and out, the bearer token (from the page URL's
// `#token=…`, kept in sessionStorage; a worker is handed it with `setToken`) on every request, and errors as Error objects carrying the
// server's { name, code, message }.
const TOKEN_KEY = 'samtune-token';

/** Reads `#token=…` once, keeps it for this tab and removes it from the address bar. */
export function initToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
}

let workerToken = null; // in a worker (no sessionStorage): the token its page handed over (`setToken`)

/** The bearer token of this tab (null when none). */
export const token = () => (typeof sessionStorage === 'undefined' ? workerToken : sessionStorage.getItem(TOKEN_KEY));

/** Sets the token in a worker, which cannot read the tab's sessionStorage. */
export function setToken(t) {
  workerToken = t;
}

const authHeaders = () => {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
};

async function fail(res) {
  let error = { name: 'HttpError', code: 'http', message: `${res.status} ${res.statusText}` };
  try {
    error = (await res.json()).error ?? error;
  } catch {
    // not JSON: keep the status line
  }
  const e = new Error(`${error.name}: ${error.message}`);
  Object.assign(e, { status: res.status, name: error.name, code: error.code });
  return e;
}

/** GET (no body) or POST JSON; resolves with the reply's JSON. */
export async function api(path, body) {
  const init =
    body === undefined
      ? { headers: authHeaders() }
      : {
          method: 'POST',
          headers: { ...authHeaders(), 'content-type': 'application/json' },
          body: JSON.stringify(body),
        };
  const res = await fetch(path, init);
  if (!res.ok) throw await fail(res);
  return res.json();
}

/** GETs raw bytes; resolves with `{ bytes: ArrayBuffer, headers: Headers }`. */
export async function getBytes(path) {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw await fail(res);
  return { bytes: await res.arrayBuffer(), headers: res.headers };
}

/** POSTs raw bytes (an image file) with its content type. */
export async function postBytes(path, blob) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...authHeaders(), 'content-type': blob.type || 'application/octet-stream' },
    body: blob,
  });
  if (!res.ok) throw await fail(res);
  return res.json();
}

/**
 * An image from the server as a decoded HTMLImageElement (fetched with the token, shown from a blob
 * URL); call `URL.revokeObjectURL(img.src)` when it is no longer shown.
 */
export async function loadImage(path) {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw await fail(res);
  const img = new Image();
  img.src = URL.createObjectURL(await res.blob());
  await img.decode();
  return img;
}

/**
 * Reads a server-sent event stream (GET with the token, which EventSource cannot send) and calls
 * `onEvent(name, data)` per event with its JSON data; comments (heartbeats) are skipped. Resolves when
 * the stream ends or `signal` aborts.
 */
export async function readEvents(path, onEvent, signal) {
  const res = await fetch(path, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal });
  if (!res.ok) throw await fail(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read().catch((e) => (signal?.aborted ? { done: true } : Promise.reject(e)));
    if (done) return;
    buf += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') name = val;
        else if (field === 'data') data.push(val);
      }
      if (data.length) {
        let parsed;
        try {
          parsed = JSON.parse(data.join('\n'));
        } catch {
          continue; // not JSON: not an event of this API
        }
        onEvent(name, parsed);
      }
    }
  }
}
