// Zones and lines over a camera frame. The rules document of a camera is a vigil_rules
// RulesConfig as JSON: `zone` (id, coords = "normalized" | "pixels", points), `line` (id,
// coords, a, b) and `rule` arrays (the plural names are accepted too). Everything is drawn
// in normalised coordinates, so the overlay fits whatever size the frame is shown at; pixel
// coordinates are divided by the frame's natural size.
//
// Over them, the tracks of the camera's latest analysed frame (GET .../detections: class,
// track id and a box already in normalised coordinates), so the operator sees what the
// analysis sees.

export const zonesOf = (cfg) => (cfg && (cfg.zone || cfg.zones)) || [];
export const linesOf = (cfg) => (cfg && (cfg.line || cfg.lines)) || [];
export const rulesOf = (cfg) => (cfg && (cfg.rule || cfg.rules)) || [];

// The rules document of camera `id` from GET /api/v1/rules ({"cameras": {id: cfg}}).
export function cameraRules(all, id) {
  const cams = all && !Array.isArray(all) ? all.cameras || all : null;
  const cfg = cams && typeof cams === 'object' ? cams[id] : null;
  return cfg && typeof cfg === 'object' ? cfg : {};
}

// [x, y] in 0..1 from a point written in `coords`, given the frame's natural size.
export function norm(p, coords, w, h) {
  if (coords === 'pixels') return w && h ? [p[0] / w, p[1] / h] : null;
  return [p[0], p[1]];
}

const COLOURS = { zone: '#ffb020', line: '#3bd1ff', draft: '#ff4fd8', selected: '#ffffff' };
// Box colours by class family: people, vehicles, anything else.
const TRACK_COLOURS = { person: '#39e36b', vehicle: '#ff5a36', other: '#c79bff' };
const VEHICLES = new Set(['car', 'truck', 'bus', 'motorcycle', 'motorbike', 'bicycle', 'van']);
export const trackColour = (label) => (label === 'person' ? TRACK_COLOURS.person : VEHICLES.has(label) ? TRACK_COLOURS.vehicle : TRACK_COLOURS.other);

// Sizes the canvas backing store to its displayed size (crisp lines at any zoom).
function fit(canvas) {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h, dpr };
}

function path(ctx, pts, w, h, close) {
  ctx.beginPath();
  pts.forEach(([x, y], i) => (i ? ctx.lineTo(x * w, y * h) : ctx.moveTo(x * w, y * h)));
  if (close) ctx.closePath();
}

function label(ctx, text, [x, y], w, h, colour, dpr) {
  ctx.font = `${12 * dpr}px system-ui, sans-serif`;
  const tw = ctx.measureText(text).width;
  ctx.fillStyle = 'rgba(0,0,0,.65)';
  ctx.fillRect(x * w, y * h - 14 * dpr, tw + 6 * dpr, 15 * dpr);
  ctx.fillStyle = colour;
  ctx.fillText(text, x * w + 3 * dpr, y * h - 3 * dpr);
}

// Draws `tracks` (from GET .../detections: {track_id, label, box_norm, plate?}) as labelled
// boxes; returns how many were drawn.
function drawTracks(ctx, tracks, w, h, dpr) {
  let n = 0;
  for (const t of tracks || []) {
    const b = t && t.box_norm;
    if (!b || ![b.x1, b.y1, b.x2, b.y2].every(Number.isFinite)) continue;
    const c = trackColour(t.label);
    ctx.strokeStyle = c; ctx.lineWidth = 2 * dpr;
    ctx.strokeRect(b.x1 * w, b.y1 * h, (b.x2 - b.x1) * w, (b.y2 - b.y1) * h);
    const text = `${t.label} #${t.track_id}${t.plate ? ' ' + t.plate : ''}`;
    // Labels above the box, or inside it when the box touches the top edge.
    label(ctx, text, [b.x1, b.y1 * h < 16 * dpr ? b.y1 + 16 * dpr / h : b.y1], w, h, c, dpr);
    n += 1;
  }
  return n;
}

// Draws the camera's zones and lines, the latest `tracks` (may be null), then `draft`
// ({kind: 'zone'|'line', points}) with its vertices. `selected` is the id drawn highlighted;
// `size` the frame's natural [w, h]. The number of boxes drawn is kept on the canvas as
// data-boxes (the browser tests read it).
export function drawOverlay(canvas, cfg, size = [0, 0], draft = null, selected = null, tracks = null) {
  const { ctx, w, h, dpr } = fit(canvas);
  ctx.lineWidth = 2 * dpr;
  for (const z of zonesOf(cfg)) {
    const pts = (z.points || []).map((p) => norm(p, z.coords, size[0], size[1]));
    if (pts.length < 2 || pts.includes(null)) continue;
    const c = z.id === selected ? COLOURS.selected : COLOURS.zone;
    path(ctx, pts, w, h, true);
    ctx.fillStyle = 'rgba(255,176,32,.15)'; ctx.fill();
    ctx.strokeStyle = c; ctx.stroke();
    label(ctx, z.id, pts[0], w, h, c, dpr);
  }
  for (const l of linesOf(cfg)) {
    const pts = [l.a, l.b].filter(Boolean).map((p) => norm(p, l.coords, size[0], size[1]));
    if (pts.length < 2 || pts.includes(null)) continue;
    const c = l.id === selected ? COLOURS.selected : COLOURS.line;
    path(ctx, pts, w, h, false);
    ctx.strokeStyle = c; ctx.stroke();
    // The arrow head shows a → b, which names the crossing directions.
    const [[ax, ay], [bx, by]] = pts, ang = Math.atan2((by - ay) * h, (bx - ax) * w), s = 10 * dpr;
    ctx.beginPath();
    ctx.moveTo(bx * w, by * h);
    ctx.lineTo(bx * w - s * Math.cos(ang - 0.5), by * h - s * Math.sin(ang - 0.5));
    ctx.lineTo(bx * w - s * Math.cos(ang + 0.5), by * h - s * Math.sin(ang + 0.5));
    ctx.closePath(); ctx.fillStyle = c; ctx.fill();
    label(ctx, l.id, pts[0], w, h, c, dpr);
  }
  canvas.dataset.boxes = String(drawTracks(ctx, tracks, w, h, dpr));
  ctx.lineWidth = 2 * dpr;
  if (draft && draft.points.length) {
    path(ctx, draft.points, w, h, draft.kind === 'zone' && draft.points.length > 2);
    ctx.strokeStyle = COLOURS.draft; ctx.setLineDash([6 * dpr, 4 * dpr]); ctx.stroke(); ctx.setLineDash([]);
    for (const [x, y] of draft.points) {
      ctx.beginPath(); ctx.arc(x * w, y * h, 5 * dpr, 0, 2 * Math.PI);
      ctx.fillStyle = COLOURS.draft; ctx.fill();
    }
  }
}
