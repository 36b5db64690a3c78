// Talking to the daemon: the bearer token (sessionStorage: it dies with the tab), JSON calls
// that turn the API's {"error": {code, message, detail}} into thrown ApiError objects, images
// fetched with the token and shown through blob: URLs (an <img src> cannot send headers),
// and a tiny DOM helper shared by every page.

const KEY = 'vigil.token';

export const token = () => sessionStorage.getItem(KEY);
export const setToken = (t) => sessionStorage.setItem(KEY, t);
export const clearToken = () => sessionStorage.removeItem(KEY);

// Called when the API answers 401: the app shows the login form again.
let onUnauthorized = () => {};
export const whenUnauthorized = (f) => { onUnauthorized = f; };

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status; this.code = code; this.detail = detail;
  }
}

async function raw(method, path, { json, body, type, signal } = {}) {
  const headers = {};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  else if (type) headers['Content-Type'] = type;
  let r;
  try {
    r = await fetch(path, { method, headers, body, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `cannot reach the daemon (${e.message})`);
  }
  if (r.ok) return r;
  let err = { code: 'http_' + r.status, message: `${r.status} ${r.statusText}` };
  try { err = (await r.json()).error || err; } catch { /* not JSON */ }
  if (r.status === 401) onUnauthorized(err.message);
  throw new ApiError(r.status, err.code, err.message, err.detail);
}

// JSON in, JSON out (null for an empty body).
export async function api(method, path, opts) {
  const r = await raw(method, path, opts);
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => api('GET', path, opts);

// The response body as a Blob (CSV downloads, JPEG frames).
export async function blob(path, opts) {
  return (await raw('GET', path, opts)).blob();
}

// Loads `path` into <img> `img` through a blob: URL, freeing the previous one. Resolves true
// when the image decoded, false when the API had no image (the error is kept on img.dataset).
export async function loadImage(img, path) {
  let b;
  try { b = await blob(path); } catch (e) {
    if (e.status === 401) throw e;
    img.dataset.error = e.message; return false;
  }
  const url = URL.createObjectURL(b);
  const old = img.dataset.blob;
  await new Promise((ok) => { img.onload = img.onerror = ok; img.src = url; });
  img.dataset.blob = url; delete img.dataset.error;
  if (old) URL.revokeObjectURL(old);
  return img.naturalWidth > 0;
}

// el('div.tile', {onclick}, child, 'text', …): elements without innerHTML, so no text from the
// API is ever parsed as markup.
export function el(spec, attrs, ...kids) {
  const [tag, ...classes] = spec.split('.');
  const e = document.createElement(tag || 'div');
  if (classes.length) e.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    kids.unshift(attrs); attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && k !== 'list') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}

// An error box for `e` (an ApiError or anything thrown), listing the detail when there is one.
export function errorBox(e) {
  const lines = [e.message || String(e)];
  const d = e.detail;
  if (d && typeof d === 'object') {
    if (Array.isArray(d.errors)) for (const x of d.errors) lines.push('• ' + (x.message || JSON.stringify(x)));
    const at = ['row', 'line', 'column', 'entry'].filter((k) => d[k] !== undefined).map((k) => `${k} ${d[k]}`);
    const reason = d.reason && !lines[0].includes(d.reason) ? `: ${d.reason}` : '';
    if (at.length) lines.push('At ' + at.join(', ') + reason);
  }
  return el('div.error', { role: 'alert' }, lines.join('\n'));
}

export const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '');
export const q = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
};
export const seg = encodeURIComponent;

// Navigates within the console (app.js renders on popstate).
export function nav(path) {
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}
