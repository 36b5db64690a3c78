// Alerts: history with filters (camera, rule, time window) from GET /api/v1/alerts, and new
// alerts live from the Server-Sent Events stream. EventSource cannot send an Authorization
// header, so the stream alone takes the token as ?access_token= (the server strips it before
// logging or auditing). Each alert can be acknowledged; the acknowledgement (who, when, note)
// is stored by the daemon and shown to every operator.

import { api, el, errorBox, fmtTime, get, loadImage, q, seg, token } from './api.js';

// Snapshots load one at a time, newest first, so a long history does not fire 100 requests.
function snapshotQueue() {
  const queue = [];
  let running = false;
  async function run() {
    while (queue.length) {
      const [img, id] = queue.shift();
      if (img.isConnected) {
        const ok = await loadImage(img, `/api/v1/alerts/${seg(id)}/snapshot.jpg`).catch(() => false);
        if (!ok) img.replaceWith(el('span.dim', 'no snapshot'));
      }
    }
    running = false;
  }
  // Started on the next turn: rows are queued before they are put on the page.
  return (img, id, first) => {
    first ? queue.unshift([img, id]) : queue.push([img, id]);
    if (!running) { running = true; setTimeout(run, 0); }
  };
}

function ackCell(a, onAcked) {
  if (a.ack) {
    return el('td.acked', `✓ ${a.ack.by || ''} ${fmtTime(a.ack.at)}`, a.ack.note ? el('div.dim', a.ack.note) : '');
  }
  const note = el('input', { placeholder: 'note (optional)', size: 14, 'aria-label': 'acknowledgement note' });
  const msg = el('div');
  const btn = el('button', {
    type: 'button', class: 'ack',
    onclick: async () => {
      btn.disabled = true;
      try {
        const out = await api('POST', `/api/v1/alerts/${seg(a.id)}/ack`, { json: note.value.trim() ? { note: note.value.trim() } : {} });
        onAcked(out);
      } catch (e) { msg.replaceChildren(errorBox(e)); btn.disabled = false; }
    },
  }, 'Acknowledge');
  return el('td', el('div.row', note, btn), msg);
}

export function alertsPage(main) {
  const camera = el('select', { name: 'camera' }, el('option', { value: '' }, 'all cameras'));
  const rule = el('input', { name: 'rule', placeholder: 'any rule', list: 'rule-ids', size: 14 });
  const ruleIds = el('datalist', { id: 'rule-ids' });
  const since = el('input', { name: 'since', type: 'datetime-local' });
  const until = el('input', { name: 'until', type: 'datetime-local' });
  const live = el('span.live', { title: 'live stream' });
  const liveText = el('span.dim', 'connecting…');
  const out = el('div');
  const tbody = el('tbody');
  const table = el('table.alerts', el('thead', el('tr', ...['snapshot', 'time', 'camera', 'rule', 'plate', 'severity', 'acknowledged'].map((h) => el('th', h)))), tbody);
  const form = el('form.panel.row', { onsubmit: (e) => { e.preventDefault(); search(); } },
    el('label', 'Camera', camera), el('label', 'Rule', rule, ruleIds), el('label', 'Since', since), el('label', 'Until', until),
    el('button.primary', { type: 'submit' }, 'Apply'), live, liveText);
  main.append(el('h1', 'Alerts'), form, out, table);
  const loadSnapshot = snapshotQueue();

  get('/api/v1/cameras').then((cams) => camera.append(...cams.map((c) => el('option', { value: c.id }, c.name || c.id)))).catch(() => {});
  get('/api/v1/rules').then((all) => {
    const ids = new Set();
    for (const cfg of Object.values((all && all.cameras) || {})) for (const r of (cfg && (cfg.rule || cfg.rules)) || []) ids.add(r.id);
    ruleIds.append(...[...ids].sort().map((id) => el('option', { value: id })));
  }).catch(() => {});

  const iso = (input) => (input.value ? new Date(input.value).toISOString() : '');

  function row(a, fresh) {
    const img = el('img', { alt: `snapshot of alert ${a.id}` });
    const tr = el(fresh ? 'tr.new' : 'tr', { 'data-alert': a.id },
      el('td', img),
      el('td', fmtTime(a.time)),
      el('td', a.camera ? (a.camera.name || a.camera.id) : ''),
      el('td', a.rule ? `${a.rule.id}` : '', a.rule && a.rule.kind ? el('div.dim', a.rule.kind) : ''),
      el('td', a.plate && a.plate.text ? el('span.plate', a.plate.text) : ''),
      el(`td.sev-${a.severity || 'none'}`, a.severity || ''),
      ackCell(a, (updated) => tr.replaceWith(row(updated, false))));
    loadSnapshot(img, a.id, fresh);
    return tr;
  }

  const matches = (a) => (!camera.value || (a.camera && a.camera.id === camera.value))
    && (!rule.value.trim() || (a.rule && a.rule.id === rule.value.trim()))
    && !until.value && (!since.value || new Date(a.time) >= new Date(since.value));

  async function search() {
    out.replaceChildren();
    try {
      const list = await get('/api/v1/alerts' + q({ camera: camera.value, rule: rule.value.trim(), since: iso(since), until: iso(until) }));
      tbody.replaceChildren(...list.map((a) => row(a, false)));
      if (!list.length) out.replaceChildren(el('p.dim', 'No alerts match.'));
    } catch (e) { out.replaceChildren(errorBox(e)); }
  }

  const es = new EventSource('/api/v1/alerts/stream' + q({ access_token: token() }));
  es.addEventListener('open', () => { live.classList.add('on'); liveText.textContent = 'live'; });
  es.addEventListener('error', () => {
    live.classList.remove('on');
    liveText.textContent = es.readyState === EventSource.CLOSED ? 'live stream refused (reload the page)' : 'reconnecting…';
  });
  es.addEventListener('alert', (e) => {
    let a;
    try { a = JSON.parse(e.data); } catch { return; }
    if (!matches(a) || tbody.querySelector(`tr[data-alert="${CSS.escape(a.id)}"]`)) return;
    out.replaceChildren();
    tbody.prepend(row(a, true));
  });
  es.addEventListener('lagged', (e) => {
    let n = '?';
    try { n = JSON.parse(e.data).missed; } catch { /* keep ? */ }
    out.replaceChildren(el('p.dim', `${n} alerts were skipped while this page lagged; press Apply to reload.`));
  });
  search();
  return () => es.close();
}
