// Cameras: a grid of tiles (latest frame every ~2 s, zones, lines and the latest tracks' boxes
// over it, state, analysed fps, drops) and one camera's detail page. Frames are fetched one
// camera at a time per tick and never twice at once, so a slow daemon is not buried under
// requests; each frame's tracks are fetched with it.

import { ApiError, el, errorBox, get, loadImage, nav, seg } from './api.js';
import { cameraRules, drawOverlay, linesOf, rulesOf, zonesOf } from './overlay.js';

export const REFRESH_MS = 2000;

// A frame with its overlay; .refresh() loads the latest snapshot and redraws.
export function frameView(cameraId, getRules) {
  const img = el('img', { alt: `latest frame of ${cameraId}` });
  const canvas = el('canvas');
  const none = el('div.none', 'no frame yet');
  const box = el('div.frame', img, canvas, none);
  let busy = false;
  let tracks = null; // the latest frame's tracks, null when none are known
  let noTracks = false; // the daemon has no detection view (501): stop asking
  const redraw = () => drawOverlay(canvas, getRules(), [img.naturalWidth, img.naturalHeight], null, null, tracks);
  async function loadTracks() {
    if (noTracks) return null;
    try {
      return (await get(`/api/v1/cameras/${seg(cameraId)}/detections`)).tracks || [];
    } catch (e) {
      if (e instanceof ApiError && e.status === 501) noTracks = true;
      if (e instanceof ApiError && e.status === 401) throw e;
      return null;
    }
  }
  box.refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const [ok, t] = await Promise.all([loadImage(img, `/api/v1/cameras/${seg(cameraId)}/snapshot.jpg`), loadTracks()]);
      tracks = ok ? t : null;
      box.dataset.tracks = tracks ? String(tracks.length) : '';
      none.hidden = ok; img.hidden = !ok;
      if (ok) box.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
      if (!ok) none.textContent = img.dataset.error || 'no frame yet';
      redraw();
    } finally { busy = false; }
  };
  box.redraw = redraw;
  box.img = img; box.canvas = canvas;
  return box;
}

function stateBadge(state) {
  return el(`span.state.${String(state).replace(/[^a-z_]/g, '')}`, { title: 'state' }, state);
}

function stats(c) {
  return [
    stateBadge(c.state),
    el('span', { title: 'frames analysed per second' }, `${Number(c.fps_analysed || 0).toFixed(1)} fps`),
    el('span', { title: 'frames dropped since start (ingest queue + detector queue)' }, `${c.counters?.frames_dropped ?? 0} drops`),
  ];
}

export function camerasPage(main) {
  let rules = {};
  const tiles = new Map(); // id → {tile, frame, meta}
  const grid = el('div.grid');
  const status = el('p.dim', 'Loading cameras…');
  main.append(el('h1', 'Cameras'), status, grid);

  async function tick() {
    let cams;
    try {
      [cams, rules] = await Promise.all([get('/api/v1/cameras'), get('/api/v1/rules')]);
      status.replaceChildren(`${cams.length} camera${cams.length === 1 ? '' : 's'}`);
    } catch (e) { status.replaceChildren(errorBox(e)); return; }
    for (const c of cams) {
      let t = tiles.get(c.id);
      if (!t) {
        const frame = frameView(c.id, () => cameraRules(rules, c.id));
        const meta = el('div.meta');
        const tile = el('div.tile', {
          'data-camera': c.id, role: 'link', tabindex: 0,
          onclick: () => nav(`/ui/cameras/${seg(c.id)}`),
          onkeydown: (e) => e.key === 'Enter' && nav(`/ui/cameras/${seg(c.id)}`),
        }, frame, meta);
        t = { tile, frame, meta };
        tiles.set(c.id, t);
        grid.append(tile);
      }
      t.meta.replaceChildren(el('strong', c.name || c.id), ...stats(c),
        c.last_error ? el('span.dim', { title: c.last_error }, '⚠ ' + c.last_error) : '');
    }
    for (const [id, t] of tiles) if (!cams.some((c) => c.id === id)) { t.tile.remove(); tiles.delete(id); }
    for (const t of tiles.values()) await t.frame.refresh().catch(() => {});
  }

  let timer = null, stopped = false;
  const loop = async () => { await tick(); if (!stopped) timer = setTimeout(loop, REFRESH_MS); };
  loop();
  const onResize = () => { for (const t of tiles.values()) t.frame.redraw(); };
  window.addEventListener('resize', onResize);
  return () => { stopped = true; clearTimeout(timer); window.removeEventListener('resize', onResize); };
}

export function cameraDetail(main, [id]) {
  let rules = {};
  const frame = frameView(id, () => cameraRules(rules, id));
  const info = el('div');
  const shapes = el('div');
  main.append(
    el('p', el('a', { href: '/ui/cameras' }, '← all cameras')),
    el('div.cols', el('div', frame), el('div', el('div.panel', info),
      el('div.panel', el('h3', 'Zones, lines and rules'), shapes,
        el('p', el('a', { href: `/ui/editor/${seg(id)}` }, 'Edit zones and lines →')))))
  );

  async function tick() {
    try {
      const [c, all] = await Promise.all([get(`/api/v1/cameras/${seg(id)}`), get('/api/v1/rules')]);
      rules = all;
      const k = c.counters || {};
      info.replaceChildren(
        el('h1', c.name || c.id), el('p.dim', c.location || ''), el('div.row', ...stats(c)),
        el('table', ...[
          ['frames decoded', k.frames_in], ['frames analysed', k.frames_analysed],
          ['frames dropped', k.frames_dropped], ['… by the ingest queue', k.frames_dropped_ingest],
          ['… by the detector queue', k.frames_dropped_detector], ['plate jobs dropped', k.plate_jobs_dropped],
          ['reconnects', k.reconnects], ['decode errors', k.decode_errors],
        ].map(([n, v]) => el('tr', el('th', n), el('td', v ?? '')))),
        c.last_error ? errorBox({ message: c.last_error }) : '',
      );
      const cfg = cameraRules(rules, id);
      shapes.replaceChildren(el('ul.shapes',
        ...zonesOf(cfg).map((z) => el('li', `zone ${z.id} (${(z.points || []).length} points)`)),
        ...linesOf(cfg).map((l) => el('li', `line ${l.id}`)),
        ...rulesOf(cfg).map((r) => el('li', `rule ${r.id}: ${r.kind}${r.zone ? ' in ' + r.zone : ''}${r.line ? ' across ' + r.line : ''}`))));
    } catch (e) { info.replaceChildren(errorBox(e)); }
    await frame.refresh().catch(() => {});
  }
  let timer = null, stopped = false;
  const loop = async () => { await tick(); if (!stopped) timer = setTimeout(loop, REFRESH_MS); };
  loop();
  return () => { stopped = true; clearTimeout(timer); };
}
