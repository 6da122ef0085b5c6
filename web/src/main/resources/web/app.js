// Retina admin console: tenants and their API keys, over the admin API (/admin), with the
// admin token kept in this tab's sessionStorage. No dependencies; every server text is put in
// the page as text, never as HTML.

const TOKEN_KEY = 'retina.adminToken';
const HEALTH_EVERY_MS = 15000;
const NOTICE_MS = 8000;

const $ = (selector) => document.querySelector(selector);

const state = { tenants: [], tenant: null };
let noticeTimer = null;

/** An error answered by the API, from its problem+json body when there is one. */
class ApiError extends Error {
  constructor(status, title, detail, type) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
  }
}

// ---- the admin API ----

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'The node did not answer', String(e.message || e));
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const p = data && typeof data === 'object' ? data : {};
    const title = p.title || `HTTP ${response.status}`;
    throw new ApiError(response.status, title, p.detail || response.statusText, p.type);
  }
  return data;
}

/** Runs an admin action, saying what went wrong; a 401 signs out. */
async function run(action, button) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signOut();
    say(e instanceof ApiError ? e : new ApiError(0, 'Something went wrong', String(e)), 'error');
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- messages ----

/** Shows a message in the live region; errors stay until the next one. */
function say(what, kind = 'ok') {
  const box = $('#message');
  clearTimeout(noticeTimer);
  box.replaceChildren();
  box.setAttribute('aria-live', kind === 'error' ? 'assertive' : 'polite');
  const body = el('div', { class: `message-body ${kind}` });
  if (what instanceof ApiError) {
    body.append(el('strong', {}, what.title));
    if (what.detail) body.append(' ', el('span', {}, what.detail));
  } else {
    body.append(el('span', {}, what));
  }
  const close = el('button', { type: 'button', class: 'message-close', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => box.replaceChildren());
  body.append(close);
  box.append(body);
  if (kind !== 'error') noticeTimer = setTimeout(() => box.replaceChildren(), NOTICE_MS);
}

// ---- DOM helpers ----

/** An element with attributes (null ones left out) and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function when(iso) {
  if (!iso) return el('span', { class: 'muted' }, 'never');
  return el('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

/** The trimmed value of a required input, or '' after saying what is missing. */
function required(input, message) {
  const value = input.value.trim();
  if (!value) {
    say(message, 'error');
    input.focus();
  }
  return value;
}

function badge(text, tone) {
  return el('span', { class: `badge ${tone}` }, text);
}

// ---- sign in / out ----

async function signIn(event) {
  event.preventDefault();
  const input = $('#token');
  const value = required(input, 'Enter the admin token.');
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  const tenants = await run(() => api('GET', '/admin/tenants'), $('[data-testid="login-button"]'));
  if (tenants === undefined) return;
  input.value = '';
  say('Signed in.');
  showAdmin(tenants);
  $('#tenants-title').focus();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.tenants = [];
  hideKeys();
  $('#admin-view').hidden = true;
  $('#logout').hidden = true;
  $('#login-view').hidden = false;
  if (location.hash) history.replaceState(null, '', location.pathname);
  $('#token').focus();
}

function showAdmin(tenants) {
  $('#login-view').hidden = true;
  $('#admin-view').hidden = false;
  $('#logout').hidden = false;
  renderTenants(tenants);
  openFromHash();
}

// ---- tenants ----

async function loadTenants(button) {
  const tenants = await run(() => api('GET', '/admin/tenants'), button);
  if (tenants !== undefined) renderTenants(tenants);
}

function renderTenants(tenants) {
  state.tenants = tenants;
  const rows = tenants.map((t) => {
    const show = el('button', { type: 'button', class: 'button secondary small',
      'data-testid': 'show-keys-button', 'aria-label': `API keys of ${t.name}` }, 'Keys');
    show.addEventListener('click', () => selectTenant(t.id));
    const selected = state.tenant && state.tenant.id === t.id;
    return el(
      'tr',
      { 'data-testid': 'tenant-row', 'data-tenant-id': t.id, class: selected ? 'selected' : null,
        'aria-current': selected ? 'true' : null },
      el('th', { scope: 'row' }, el('span', {}, t.name), el('code', { class: 'id' }, t.id)),
      el('td', {}, badge(t.status, t.status === 'active' ? 'good' : 'warn')),
      el('td', {}, when(t.createdAt)),
      el('td', { class: 'actions' }, show),
    );
  });
  $('#tenant-rows').replaceChildren(...rows);
  $('#tenants-empty').hidden = tenants.length > 0;
}

async function createTenant(event) {
  event.preventDefault();
  const input = $('#tenant-name');
  const name = required(input, 'Name the tenant.');
  if (!name) return;
  const button = $('[data-testid="create-tenant-button"]');
  const tenant = await run(() => api('POST', '/admin/tenants', { name }), button);
  if (tenant === undefined) return;
  input.value = '';
  say(`Created tenant ${tenant.name}.`);
  await loadTenants();
  selectTenant(tenant.id);
}

// ---- keys ----

function selectTenant(id) {
  if (location.hash !== `#tenant=${id}`) {
    location.hash = `tenant=${id}`; // hashchange opens it
  } else {
    openTenant(id);
  }
}

function openFromHash() {
  const match = /^#tenant=([0-9a-fA-F-]{36})$/.exec(location.hash);
  if (match && token()) openTenant(match[1]);
  else if (state.tenant) hideKeys();
}

async function openTenant(id) {
  const tenant =
    state.tenants.find((t) => t.id === id) ||
    (await run(() => api('GET', `/admin/tenants/${encodeURIComponent(id)}`)));
  if (!tenant) return;
  if (!state.tenant || state.tenant.id !== tenant.id) {
    hideSecret();
    $('#key-rows').replaceChildren();
  }
  state.tenant = tenant;
  renderTenants(state.tenants);
  $('#keys-tenant').textContent = tenant.name;
  $('#keys-view').hidden = false;
  await loadKeys();
  $('#keys-title').focus();
}

function hideKeys() {
  state.tenant = null;
  hideSecret();
  $('#keys-view').hidden = true;
  $('#key-rows').replaceChildren();
  renderTenants(state.tenants);
}

function closeKeys() {
  const id = state.tenant && state.tenant.id;
  hideKeys();
  history.replaceState(null, '', location.pathname);
  const row = id && document.querySelector(`[data-tenant-id="${id}"] button`);
  if (row) row.focus();
}

async function loadKeys() {
  const tenant = state.tenant;
  const keys = await run(() => api('GET', `/admin/tenants/${tenant.id}/keys`));
  if (keys === undefined || state.tenant !== tenant) return;
  const rows = keys.map((k) => keyRow(tenant, k));
  $('#key-rows').replaceChildren(...rows);
  $('#keys-empty').hidden = keys.length > 0;
}

function keyRow(tenant, k) {
  const revoked = Boolean(k.revokedAt);
  let action = el('span', { class: 'muted' }, '—');
  if (!revoked) {
    action = el('button', { type: 'button', class: 'button danger small',
      'data-testid': 'revoke-key-button', 'aria-label': `Revoke key ${k.name}` }, 'Revoke');
    action.addEventListener('click', () => revokeKey(tenant, k, action));
  }
  return el(
    'tr',
    { 'data-testid': 'key-row', 'data-key-id': k.id, class: revoked ? 'revoked' : null },
    el('th', { scope: 'row' }, k.name),
    el('td', {}, el('code', { title: `rtn_live_${k.prefix}…` }, `${k.prefix}…`)),
    el('td', {}, when(k.createdAt)),
    el('td', {}, when(k.lastUsedAt)),
    el('td', {}, revoked ? badge('revoked', 'bad') : badge('active', 'good')),
    el('td', { class: 'actions' }, action),
  );
}

async function issueKey(event) {
  event.preventDefault();
  const tenant = state.tenant;
  const input = $('#key-name');
  const name = required(input, 'Name the key, e.g. after where it will be used.');
  if (!name) return;
  const button = $('[data-testid="issue-key-button"]');
  const issued = await run(() => api('POST', `/admin/tenants/${tenant.id}/keys`, { name }), button);
  if (issued === undefined) return;
  input.value = '';
  showSecret(issued);
  await loadKeys();
}

async function revokeKey(tenant, key, button) {
  const question = `Revoke the key "${key.name}" of ${tenant.name}? It stops working at once.`;
  if (!window.confirm(question)) return;
  const done = await run(() => api('DELETE', `/admin/tenants/${tenant.id}/keys/${key.id}`), button);
  if (done === undefined) return;
  say(`Revoked the key ${key.name}.`);
  await loadKeys();
  $('#keys-title').focus();
}

// ---- the issued secret, shown once ----

function showSecret(issued) {
  $('#secret-value').value = issued.secret;
  $('#copy-secret').textContent = 'Copy';
  $('#issued-secret').hidden = false;
  say(`Issued the key ${issued.name}. Copy its secret now: it will not be shown again.`);
  $('#secret-title').focus();
}

function hideSecret() {
  $('#secret-value').value = '';
  $('#issued-secret').hidden = true;
}

async function copySecret() {
  const input = $('#secret-value');
  const button = $('#copy-secret');
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(input.value);
    } else {
      input.focus();
      input.select();
      if (!document.execCommand('copy')) throw new Error('copy refused');
    }
    button.textContent = 'Copied';
    say('Copied the secret to the clipboard.');
  } catch {
    input.focus();
    input.select();
    say('Copy the selected secret with Ctrl+C (⌘C on a Mac).', 'error');
  }
}

function dismissSecret() {
  hideSecret();
  $('#key-name').focus();
}

// ---- node health ----

async function checkHealth() {
  const box = $('#health');
  let [stateName, text] = ['down', 'Node unreachable'];
  try {
    const response = await fetch('/health/ready', { cache: 'no-store' });
    const body = await response.json().catch(() => ({}));
    const reasons = Array.isArray(body.reasons) ? `: ${body.reasons.join('; ')}` : '';
    [stateName, text] = response.ok ? ['ready', 'Node ready'] : ['not-ready', `Node not ready${reasons}`];
  } catch {
    // the node did not answer: stays "unreachable"
  }
  box.dataset.state = stateName;
  box.title = text;
  $('#health-text').textContent = text;
}

// ---- start ----

function start() {
  $('#login-form').addEventListener('submit', signIn);
  $('#logout').addEventListener('click', () => {
    signOut();
    say('Signed out.');
  });
  $('#create-tenant-form').addEventListener('submit', createTenant);
  $('#refresh-tenants').addEventListener('click', (e) => loadTenants(e.currentTarget));
  $('#issue-key-form').addEventListener('submit', issueKey);
  $('#close-keys').addEventListener('click', closeKeys);
  $('#copy-secret').addEventListener('click', copySecret);
  $('#dismiss-secret').addEventListener('click', dismissSecret);
  window.addEventListener('hashchange', openFromHash);

  checkHealth();
  setInterval(checkHealth, HEALTH_EVERY_MS);

  if (token()) {
    run(() => api('GET', '/admin/tenants')).then((tenants) => {
      if (tenants !== undefined) {
        showAdmin(tenants);
      } else if ($('#admin-view').hidden) {
        $('#login-view').hidden = false;
      }
    });
  } else {
    $('#login-view').hidden = false;
    $('#token').focus();
  }
}

start();
