// The console's entry point: sign-in, navigation (history API over /ui/... paths, which the
// server answers with this same shell) and mounting one page at a time. A page is a function
// (main, params) → cleanup; the cleanup stops its timers and streams when the page changes.

import { ApiError, clearToken, get, setToken, token, whenUnauthorized } from './api.js';
import { cameraDetail, camerasPage } from './cameras.js';
import { alertsPage } from './alerts.js';
import { watchlistsPage } from './watchlists.js';
import { editorPage } from './editor.js';

const $ = (id) => document.getElementById(id);
let cleanup = null;

const ROUTES = [
  [/^\/(ui\/?(cameras\/?)?)?$/, 'cameras', camerasPage],
  [/^\/ui\/cameras\/([^/]+)$/, 'cameras', cameraDetail],
  [/^\/ui\/editor\/([^/]+)$/, 'cameras', editorPage],
  [/^\/ui\/alerts\/?$/, 'alerts', alertsPage],
  [/^\/ui\/watchlists\/?$/, 'watchlists', watchlistsPage],
];

function unmount() {
  if (cleanup) { try { cleanup(); } catch { /* page already gone */ } }
  cleanup = null;
  $('main').replaceChildren();
}

function showLogin(message) {
  unmount();
  $('nav').hidden = true; $('logout').hidden = true; $('who').textContent = '';
  $('login').hidden = false;
  const err = $('login-error');
  err.hidden = !message; err.textContent = message || '';
  $('token').focus();
}

function render() {
  if (!token()) return showLogin();
  $('login').hidden = true; $('nav').hidden = false; $('logout').hidden = false;
  unmount();
  const path = decodeURI(location.pathname);
  const found = ROUTES.map(([re, nav, page]) => [path.match(re), nav, page]).find(([m]) => m);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', !!found && a.dataset.page === found[1]);
  if (!found) {
    $('main').append(Object.assign(document.createElement('p'), { textContent: `No page ${path}.` }));
    return;
  }
  const [m, , page] = found;
  cleanup = page($('main'), m.slice(1).map(decodeURIComponent)) || null;
}

export function go(path) {
  history.pushState(null, '', path);
  render();
}

whenUnauthorized((message) => {
  clearToken();
  showLogin(`Signed out: ${message}`);
});

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href^="/ui/"]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  e.preventDefault();
  go(a.getAttribute('href'));
});
window.addEventListener('popstate', render);

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (!t) return;
  setToken(t);
  try {
    await get('/api/v1/cameras'); // proves the token before any page loads
    $('token').value = '';
    render();
  } catch (err) {
    clearToken();
    showLogin(err instanceof ApiError && err.status === 401 ? 'That token was not accepted.' : err.message);
  }
});
$('logout').addEventListener('click', () => { clearToken(); showLogin(); });

// The header shows what /readyz says (it needs no token): a failed required check, and every
// sink that is not up. A sink that is down does not make the daemon unready, so this strip is
// where an operator sees a broker incident.
async function refreshHealth() {
  const box = $('health');
  try {
    const r = await (await fetch('/readyz', { cache: 'no-store' })).json();
    const failed = (r.checks || []).filter((c) => c.required && !c.ok).map((c) => `${c.name}: ${c.detail}`);
    const sinks = (r.checks || []).filter((c) => c.name.startsWith('sink:') && c.detail !== 'up')
      .map((c) => `${c.name.slice(5)} ${c.detail}`);
    const parts = [...(failed.length ? [`Not ready — ${failed.join('; ')}`] : []), ...(sinks.length ? [`Sinks: ${sinks.join(', ')}`] : [])];
    box.textContent = parts.join(' · ');
    box.className = failed.length ? 'bad' : (sinks.length ? 'warn' : '');
  } catch {
    box.textContent = 'Daemon not reachable'; box.className = 'bad';
  }
}
refreshHealth();
setInterval(refreshHealth, 10000);

render();
