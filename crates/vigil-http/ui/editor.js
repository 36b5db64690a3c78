// Zone editor: on a camera's latest frame, draw a polygon (click to add points, drag a point
// to move it) or a line (two clicks, a → b), name it, attach a rule, and save. Saving sends
// the camera's whole rules document to PUT /api/v1/cameras/{id}/rules; the daemon validates
// it like `vigil check`, applies it by reload and writes it back; its errors are shown as they
// come. Shapes are saved in normalised coordinates; shapes not touched keep theirs.

import { api, el, errorBox, get, loadImage, seg } from './api.js';
import { cameraRules, drawOverlay, linesOf, norm, rulesOf, zonesOf } from './overlay.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KINDS = { zone: ['zone_intrusion', 'loitering', ''], line: ['line_crossing', ''] };
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

export function editorPage(main, [camera]) {
  let cfg = {};
  let draft = { kind: 'zone', points: [] };
  let editing = null; // id of the shape loaded into the draft
  let drag = -1;

  const img = el('img', { alt: `latest frame of ${camera}` });
  const canvas = el('canvas', { 'aria-label': 'drawing area' });
  const frame = el('div.frame', img, canvas);
  const msg = el('div');
  const shapeKind = el('select', { name: 'shape' }, el('option', { value: 'zone' }, 'zone (polygon)'), el('option', { value: 'line' }, 'line'));
  const name = el('input', { name: 'name', placeholder: 'e.g. gate-lane', size: 16, required: true });
  const ruleKind = el('select', { name: 'rule-kind' });
  const ruleId = el('input', { name: 'rule-id', size: 16 });
  const classes = el('input', { name: 'classes', value: 'person', size: 16, title: 'comma-separated; * for any' });
  const dwell = el('input', { name: 'dwell', type: 'number', min: 1, step: 1, value: 30, size: 5 });
  const direction = el('select', { name: 'direction' }, ...['any', 'left_to_right', 'right_to_left'].map((d) => el('option', { value: d }, d)));
  const dwellLabel = el('label', 'Dwell s', dwell);
  const dirLabel = el('label', 'Direction', direction);
  const hint = el('p.dim');
  const shapes = el('ul.shapes');
  let ruleIdTouched = false;

  const redraw = () => drawOverlay(canvas, cfg, [img.naturalWidth, img.naturalHeight], draft, editing);
  function syncForm() {
    const kinds = KINDS[draft.kind];
    if (![...ruleKind.options].map((o) => o.value).join() || ruleKind.dataset.for !== draft.kind) {
      ruleKind.replaceChildren(...kinds.map((k) => el('option', { value: k }, k || '(no rule)')));
      ruleKind.dataset.for = draft.kind;
    }
    dwellLabel.hidden = ruleKind.value !== 'loitering';
    dirLabel.hidden = ruleKind.value !== 'line_crossing';
    if (!ruleIdTouched) ruleId.value = ruleKind.value && name.value ? `${name.value}-${ruleKind.value.replace(/_/g, '-')}` : '';
    const n = draft.points.length;
    hint.textContent = draft.kind === 'zone'
      ? `${n} point${n === 1 ? '' : 's'}; click on the frame to add, drag to move (at least 3).`
      : `${n}/2 points; click a then b.`;
    redraw();
  }
  shapeKind.addEventListener('change', () => { draft = { kind: shapeKind.value, points: [] }; syncForm(); });
  ruleKind.addEventListener('change', syncForm);
  name.addEventListener('input', syncForm);
  ruleId.addEventListener('input', () => { ruleIdTouched = !!ruleId.value; });

  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [round((e.clientX - r.left) / r.width), round((e.clientY - r.top) / r.height)];
  };
  canvas.addEventListener('pointerdown', (e) => {
    const p = at(e), r = canvas.getBoundingClientRect();
    drag = draft.points.findIndex(([x, y]) => Math.hypot((x - p[0]) * r.width, (y - p[1]) * r.height) < 8);
    if (drag >= 0) { canvas.setPointerCapture(e.pointerId); return; }
    if (draft.kind === 'line' && draft.points.length >= 2) return;
    draft.points.push(p);
    syncForm();
  });
  canvas.addEventListener('pointermove', (e) => { if (drag >= 0) { draft.points[drag] = at(e); redraw(); } });
  canvas.addEventListener('pointerup', () => { drag = -1; });

  function edit(kind, shape) {
    const size = [img.naturalWidth, img.naturalHeight];
    const pts = kind === 'zone' ? shape.points || [] : [shape.a, shape.b];
    draft = { kind, points: pts.map((p) => norm(p, shape.coords, ...size)).filter(Boolean).map(([x, y]) => [round(x), round(y)]) };
    editing = shape.id; shapeKind.value = kind; name.value = shape.id;
    const rule = rulesOf(cfg).find((r) => r[kind] === shape.id && KINDS[kind].includes(r.kind));
    syncForm();
    ruleKind.value = rule ? rule.kind : '';
    ruleId.value = rule ? rule.id : ''; ruleIdTouched = !!rule;
    if (rule && rule.classes) classes.value = rule.classes.join(', ');
    if (rule && rule.dwell_s) dwell.value = rule.dwell_s;
    if (rule && rule.direction) direction.value = rule.direction;
    syncForm();
  }

  function removeShape(kind, id) {
    const key = cfg.zones && kind === 'zone' ? 'zones' : cfg.lines && kind === 'line' ? 'lines' : kind;
    cfg[key] = (cfg[key] || []).filter((s) => s.id !== id);
    const rk = cfg.rules ? 'rules' : 'rule';
    cfg[rk] = rulesOf(cfg).filter((r) => r[kind] !== id);
  }

  function listShapes() {
    const item = (kind, s) => el('li', `${kind} ${s.id} `,
      el('button', { type: 'button', onclick: () => edit(kind, s) }, 'Edit'), ' ',
      el('button', { type: 'button', onclick: () => { removeShape(kind, s.id); listShapes(); redraw(); say(el('p.dim', `Removed ${s.id}; press Save to keep the change.`)); } }, 'Delete'));
    shapes.replaceChildren(...zonesOf(cfg).map((z) => item('zone', z)), ...linesOf(cfg).map((l) => item('line', l)));
    if (!shapes.children.length) shapes.append(el('li.dim', 'none yet'));
  }

  const say = (node) => msg.replaceChildren(node || '');

  // Puts the draft into cfg; returns an error text or null.
  function applyDraft() {
    const id = name.value.trim();
    if (!draft.points.length) return null; // saving other changes only
    if (!ID.test(id)) return 'Give the shape a name: letters, digits, -, _ or . (e.g. gate-lane).';
    if (draft.kind === 'zone' && draft.points.length < 3) return 'A zone needs at least 3 points.';
    if (draft.kind === 'line' && draft.points.length !== 2) return 'A line needs exactly 2 points.';
    const kind = draft.kind;
    const rulesKey = cfg.rules ? 'rules' : 'rule';
    const old = rulesOf(cfg);
    if (editing && editing !== id) { // renamed: its rules follow it
      for (const r of old) if (r[kind] === editing) r[kind] = id;
    }
    const shapesKey = kind === 'zone' ? (cfg.zones ? 'zones' : 'zone') : (cfg.lines ? 'lines' : 'line');
    const shape = kind === 'zone'
      ? { id, coords: 'normalized', points: draft.points }
      : { id, coords: 'normalized', a: draft.points[0], b: draft.points[1] };
    cfg[shapesKey] = (cfg[shapesKey] || []).filter((s) => s.id !== id && s.id !== editing).concat([shape]);
    cfg[rulesKey] = old;
    const rk = ruleKind.value;
    if (rk) {
      const rid = ruleId.value.trim() || `${id}-${rk.replace(/_/g, '-')}`;
      if (!ID.test(rid)) return 'The rule id may hold letters, digits, -, _ or . only.';
      const prev = old.find((r) => r.id === rid) || {};
      const rule = { ...prev, id: rid, kind: rk };
      for (const k of ['zone', 'line', 'direction', 'dwell_s', 'min_inside_s']) delete rule[k];
      rule[kind] = id;
      if (rk === 'zone_intrusion' && prev.kind === rk && prev.min_inside_s !== undefined) rule.min_inside_s = prev.min_inside_s;
      if (rk === 'loitering') rule.dwell_s = Number(dwell.value);
      if (rk === 'line_crossing') rule.direction = direction.value;
      rule.classes = classes.value.split(',').map((c) => c.trim()).filter(Boolean);
      cfg[rulesKey] = old.filter((r) => r.id !== rid).concat([rule]);
    }
    return null;
  }

  async function save() {
    const before = JSON.stringify(cfg);
    const problem = applyDraft();
    if (problem) { cfg = JSON.parse(before); return say(errorBox({ message: problem })); }
    try {
      const out = await api('PUT', `/api/v1/cameras/${seg(camera)}/rules`, { json: cfg });
      say(el('p.notice', { id: 'saved' }, `Saved. ${out && out.message ? out.message : ''}`));
      draft = { kind: draft.kind, points: [] }; editing = null; name.value = ''; ruleIdTouched = false;
      await loadRules();
    } catch (e) {
      cfg = JSON.parse(before); // keep editing what the operator drew
      say(el('div', { id: 'save-error' }, el('strong', 'Not saved: the daemon rejected the rules.'), errorBox(e)));
    }
    syncForm();
  }

  async function loadRules() {
    cfg = JSON.parse(JSON.stringify(cameraRules(await get('/api/v1/rules'), camera)));
    listShapes(); redraw();
  }
  async function loadFrame() {
    const ok = await loadImage(img, `/api/v1/cameras/${seg(camera)}/snapshot.jpg`);
    if (ok) frame.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    if (!ok) say(errorBox({ message: `No frame from ${camera} yet (${img.dataset.error || 'no image'}); you can still draw.` }));
    redraw();
  }

  main.append(
    el('p', el('a', { href: `/ui/cameras/${seg(camera)}` }, `← camera ${camera}`)),
    el('h1', `Zones and lines of ${camera}`),
    el('div.cols.editor', el('div', frame, hint),
      el('div',
        el('form.panel', { id: 'shape-form', onsubmit: (e) => { e.preventDefault(); save(); } },
          el('div.row', el('label', 'Shape', shapeKind), el('label', 'Name', name)),
          el('div.row', el('label', 'Rule', ruleKind), el('label', 'Rule id', ruleId)),
          el('div.row', el('label', 'Classes', classes), dwellLabel, dirLabel),
          el('div.row',
            el('button', { type: 'button', onclick: () => { draft.points.pop(); syncForm(); } }, 'Undo point'),
            el('button', { type: 'button', onclick: () => { draft.points = []; editing = null; syncForm(); } }, 'Clear'),
            el('button', { type: 'button', onclick: loadFrame }, 'New frame'),
            el('button.primary', { type: 'submit', id: 'save' }, 'Save'))),
        msg,
        el('div.panel', el('h3', 'On this camera'), shapes))));
  syncForm();
  loadRules().catch((e) => say(errorBox(e)));
  loadFrame().catch((e) => say(errorBox(e)));
  const onResize = () => redraw();
  window.addEventListener('resize', onResize);
  return () => window.removeEventListener('resize', onResize);
}
