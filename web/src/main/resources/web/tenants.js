// The tenants view: every tenant, creating one, and one tenant opened beside the list (its
// settings and its keys). The open tenant is in the address (#tenant=<id>), so it survives a
// reload and can be linked.

import { api, run } from './api.js';
import { hideKeys, initKeys, showKeys } from './keys.js';
import { initSettings, showSettings } from './tenant-settings.js';
import { $, el, required, say, statusBadge, when } from './ui.js';

const state = { tenants: [], tenant: null };

/** A tenant's name by its id, when the list has it. */
export function tenantName(id) {
  const tenant = state.tenants.find((t) => t.id === id);
  return tenant ? tenant.name : null;
}

export async function loadTenants(button) {
  const tenants = await run(() => api('GET', '/admin/tenants'), button);
  if (tenants !== undefined) renderTenants(tenants);
  return tenants;
}

export function renderTenants(tenants) {
  state.tenants = tenants;
  const rows = tenants.map((t) => {
    const open = el('button', { type: 'button', class: 'button secondary small',
      'data-testid': 'show-keys-button', 'aria-label': `Manage ${t.name}: plan, quota and keys` },
    'Manage');
    open.addEventListener('click', () => selectTenant(t.id));
    const selected = state.tenant && state.tenant.id === t.id;
    return el(
      'tr',
      { 'data-testid': 'tenant-row', 'data-tenant-id': t.id, class: selected ? 'selected' : null,
        'aria-current': selected ? 'true' : null },
      el('th', { scope: 'row' }, el('span', {}, t.name), el('code', { class: 'id' }, t.id)),
      el('td', { 'data-testid': 'tenant-plan' }, t.plan),
      el('td', { 'data-testid': 'tenant-status' }, statusBadge(t.status)),
      el('td', {}, when(t.createdAt)),
      el('td', { class: 'number', 'data-testid': 'tenant-storage', 'data-tenant-id': t.id },
        stored(t.id)),
      el('td', { class: 'actions' }, open),
    );
  });
  $('#tenant-rows').replaceChildren(...rows);
  $('#tenants-empty').hidden = tenants.length > 0;
  loadStorage();
}

// Bytes of images each tenant has stored now (inputs and results not yet deleted under retention),
// by tenant id; null until the first answer.
let storage = null;

function stored(id) {
  if (storage === null) return '…';
  return bytes(storage.get(id) || 0);
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

async function loadStorage() {
  let answer;
  try {
    answer = await api('GET', '/admin/storage');
  } catch {
    return; // the cells keep their last figures
  }
  storage = new Map(answer.tenants.map((s) => [s.tenantId, s.inputBytes + s.outputBytes]));
  for (const cell of document.querySelectorAll('[data-testid="tenant-storage"]')) {
    cell.textContent = stored(cell.dataset.tenantId);
  }
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

/** Opens a tenant through the address, so that Back closes it again. */
function selectTenant(id) {
  if (location.hash !== `#tenant=${id}`) {
    location.hash = `tenant=${id}`; // the hashchange opens it
  } else {
    openTenant(id);
  }
}

/** Shows a tenant's settings and keys beside the list. */
export async function openTenant(id) {
  const tenant =
    state.tenants.find((t) => t.id === id) ||
    (await run(() => api('GET', `/admin/tenants/${encodeURIComponent(id)}`)));
  if (!tenant) return;
  state.tenant = tenant;
  renderTenants(state.tenants);
  $('#tenant-detail').hidden = false;
  $('#tenant-title').focus();
  await Promise.all([showSettings(tenant), showKeys(tenant)]);
}

/** Hides the open tenant, if any. */
export function closeTenant() {
  if (!state.tenant && $('#tenant-detail').hidden) return;
  state.tenant = null;
  hideKeys();
  $('#tenant-detail').hidden = true;
  renderTenants(state.tenants);
}

function closeByButton() {
  const id = state.tenant && state.tenant.id;
  closeTenant();
  history.replaceState(null, '', location.pathname);
  const row = id && document.querySelector(`[data-tenant-id="${id}"] button`);
  if (row) row.focus();
}

/** A tenant changed in its settings: the list, the settings and the keys show it as it is. */
async function updated(tenant) {
  state.tenants = state.tenants.map((t) => (t.id === tenant.id ? tenant : t));
  if (!state.tenant || state.tenant.id !== tenant.id) return;
  state.tenant = tenant;
  renderTenants(state.tenants);
  await Promise.all([showSettings(tenant), showKeys(tenant)]);
}

export function forgetTenants() {
  closeTenant();
  state.tenants = [];
  $('#tenant-rows').replaceChildren();
}

export function initTenants() {
  initKeys();
  initSettings({ onUpdated: updated });
  $('#create-tenant-form').addEventListener('submit', createTenant);
  $('#refresh-tenants').addEventListener('click', (e) => loadTenants(e.currentTarget));
  $('#close-keys').addEventListener('click', closeByButton);
}
