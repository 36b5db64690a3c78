// Watchlists: the lists, one list's entries with search, add and remove, CSV upload (the
// whole list is replaced atomically; a bad row rejects the upload and its row is named), CSV
// download, and the change audit log, refreshed after every change.

import { api, blob, el, errorBox, fmtTime, get, q, seg } from './api.js';

export function watchlistsPage(main) {
  let current = null; // name of the list shown
  let doc = null; // its document {name, kind, entries}
  const lists = el('tbody');
  const msg = el('div');
  const entriesBox = el('div');
  const audit = el('tbody');

  const upName = el('input', { name: 'list', placeholder: 'list name', required: true, size: 14 });
  const upKind = el('select', { name: 'kind' }, el('option', { value: 'hotlist' }, 'hotlist'), el('option', { value: 'allowlist' }, 'allowlist'));
  const upFile = el('input', { type: 'file', name: 'csv', accept: '.csv,text/csv', required: true });
  const upload = el('form.panel', { id: 'upload', onsubmit: (e) => { e.preventDefault(); doUpload(); } },
    el('h3', 'Upload CSV (replaces the list)'), el('div.row', el('label', 'List', upName), el('label', 'Kind', upKind), upFile,
      el('button.primary', { type: 'submit' }, 'Upload')));

  main.append(el('h1', 'Watchlists'), msg,
    el('div.cols',
      el('div', entriesBox),
      el('div',
        el('div.panel', el('h3', 'Lists'), el('table', el('thead', el('tr', el('th', 'name'), el('th', 'kind'), el('th', 'entries'))), lists)),
        upload)),
    el('div.panel', el('h3', 'Audit log (latest changes)'),
      el('table', el('thead', el('tr', ...['#', 'time', 'who', 'source', 'action', 'list', 'plate', 'counts'].map((h) => el('th', h)))), audit)));

  const say = (node) => msg.replaceChildren(node || '');

  let owners = {}; // list name -> what owns it, for read-only lists

  async function loadLists() {
    const all = await get('/api/v1/watchlists');
    owners = Object.fromEntries(all.filter((l) => l.read_only_owner).map((l) => [l.name, l.read_only_owner]));
    lists.replaceChildren(...all.map((l) => el('tr', el('td', el('a', { href: '#', onclick: (e) => { e.preventDefault(); show(l.name); } }, l.name)),
      el('td', l.kind), el('td', l.entries))));
    if (!current && all.length) await show(all[0].name);
  }

  async function loadAudit() {
    const a = await get('/api/v1/audit/watchlists?limit=50');
    audit.replaceChildren(...(a.records || []).slice().reverse().map((r) => el('tr',
      el('td', r.seq), el('td', fmtTime(r.at)), el('td', r.who), el('td', r.source), el('td', r.action),
      el('td', r.list), el('td', r.plate ? el('span.plate', r.plate) : ''),
      el('td.dim', Object.entries(r.counts || {}).map(([k, v]) => `${k} ${v}`).join(', ')))));
  }

  async function refresh() {
    try { await Promise.all([loadLists(), loadAudit(), current ? show(current) : null]); } catch (e) { say(errorBox(e)); }
  }

  async function show(name) {
    current = name; upName.value = name;
    try { doc = await get(`/api/v1/watchlists/${seg(name)}`); } catch (e) { say(errorBox(e)); return; }
    upKind.value = doc.kind;
    renderEntries();
  }

  function renderEntries(filter = '') {
    // A list declared with a file in the pipeline file is re-imported on every reload, so
    // changes here would be lost: the API refuses them and the console says why.
    const owner = owners[doc.name];
    const search = el('input', { type: 'search', placeholder: 'search plate, reason, note', value: filter, size: 28 });
    const body = el('tbody');
    const fill = () => {
      const f = search.value.trim().toUpperCase();
      body.replaceChildren(...doc.entries.filter((e) => !f || [e.plate, e.reason, e.note].some((x) => String(x || '').toUpperCase().includes(f)))
        .map((e) => el('tr', el('td', el('span.plate', e.plate)), el('td', e.priority || ''), el('td', e.reason || ''),
          el('td', e.valid_until ? 'until ' + fmtTime(e.valid_until) : ''), el('td.dim', e.note || ''),
          el('td', owner ? '' : el('button', { type: 'button', onclick: () => remove(e.plate) }, 'Remove')))));
    };
    search.addEventListener('input', fill);
    const plate = el('input', { name: 'plate', placeholder: 'plate', required: true, size: 12 });
    const priority = el('select', { name: 'priority' }, ...['low', 'medium', 'high', 'critical'].map((p) => el('option', { value: p, selected: p === 'medium' }, p)));
    const reason = el('input', { name: 'reason', placeholder: 'reason', size: 16 });
    const note = el('input', { name: 'note', placeholder: 'note', size: 16 });
    const add = el('form.row', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('POST', `/api/v1/watchlists/${seg(doc.name)}/entries`, { json: { plate: plate.value.trim(), priority: priority.value, reason: reason.value, note: note.value } });
        say(el('p.notice', `Added ${plate.value.trim()} to ${doc.name}.`));
        await refresh();
      } catch (err) { say(errorBox(err)); }
    } }, plate, priority, reason, note, el('button.primary', { type: 'submit' }, 'Add entry'));
    entriesBox.replaceChildren(el('div.panel',
      el('div.row', el('h2', `${doc.name} `, el('span.dim', `(${doc.kind}, ${doc.entries.length} entries)`)),
        el('button', { type: 'button', onclick: download }, 'Download CSV')),
      owner ? el('p.notice', { id: 'read-only' }, `Read-only: this list is owned by ${owner}. Edit that file and reload to change it.`) : add,
      el('div.row', search),
      el('table', el('thead', el('tr', ...['plate', 'priority', 'reason', 'valid', 'note', ''].map((h) => el('th', h)))), body)));
    fill();
  }

  async function remove(plateText) {
    if (!confirm(`Remove ${plateText} from ${doc.name}?`)) return;
    try {
      await api('DELETE', `/api/v1/watchlists/${seg(doc.name)}/entries/${seg(plateText)}`);
      say(el('p.notice', `Removed ${plateText} from ${doc.name}.`));
      await refresh();
    } catch (e) { say(errorBox(e)); }
  }

  async function download() {
    try {
      const b = await blob(`/api/v1/watchlists/${seg(doc.name)}?format=csv`);
      const a = el('a', { href: URL.createObjectURL(b), download: `${doc.name}.csv` });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) { say(errorBox(e)); }
  }

  async function doUpload() {
    const file = upFile.files[0];
    const name = upName.value.trim();
    if (!file || !name) return;
    try {
      const out = await api('PUT', `/api/v1/watchlists/${seg(name)}` + q({ kind: upKind.value }), { body: await file.text(), type: 'text/csv' });
      say(el('p.notice', `Uploaded ${name}: ${out.before} → ${out.after} entries (${out.added} added, ${out.removed} removed).`));
      upFile.value = '';
      current = name;
      await refresh();
    } catch (e) {
      say(el('div', { id: 'upload-error' }, el('strong', `Upload of ${name} rejected; the list is unchanged.`), errorBox(e)));
    }
  }

  refresh();
  return null;
}
