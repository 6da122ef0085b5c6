// The audit view: the admin audit trail, newest first, a page at a time. Tenant ids are shown
// with the tenant's name where the tenants list knows it.

import { api, run } from './api.js';
import { tenantName } from './tenants.js';
import { $, el, units, when } from './ui.js';

// a page of entries: enough to see a session's changes, small enough to read
const PAGE = 50;

let oldest = null; // the id of the last entry shown, to page back from

/** Shows the view with the newest entries. */
export async function showAudit() {
  $('#audit-title').focus();
  await loadAudit(false);
}

async function loadAudit(older, button) {
  const before = older && oldest !== null ? `&before=${oldest}` : '';
  const answer = await run(() => api('GET', `/admin/audit?limit=${PAGE}${before}`), button);
  if (answer === undefined) return;
  const rows = answer.entries.map(entryRow);
  if (older) $('#audit-rows').append(...rows);
  else $('#audit-rows').replaceChildren(...rows);
  if (answer.entries.length > 0) oldest = answer.entries[answer.entries.length - 1].id;
  $('#audit-empty').hidden = $('#audit-rows').children.length > 0;
  $('#audit-more').hidden = answer.entries.length < PAGE;
}

function entryRow(entry) {
  return el(
    'tr',
    { 'data-testid': 'audit-row', 'data-audit-id': String(entry.id), 'data-action': entry.action },
    el('td', {}, when(entry.at)),
    el('th', { scope: 'row' }, el('code', {}, entry.action)),
    el('td', {}, target(entry)),
    el('td', { class: 'details' }, details(entry.details || {})),
    el('td', {}, entry.actor),
  );
}

function target(entry) {
  const kind = { api_key: 'key', model_version: 'model version' }[entry.targetType] || entry.targetType;
  const name = entry.targetType === 'tenant' ? tenantName(entry.targetId) : null;
  return el('span', {}, name ? `${kind} ${name}` : kind, el('code', { class: 'id' }, entry.targetId));
}

/** An entry's details as "name: value" pairs, tenant ids named and micros in units. */
function details(data) {
  const parts = Object.entries(data).map(([key, value]) => {
    let shown;
    if (key === 'tenant' && typeof value === 'string') {
      const name = tenantName(value);
      shown = name ? `${name} (${value})` : value;
    } else if (value && typeof value === 'object') {
      shown = Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => (k.endsWith('Micros') ? `${k.slice(0, -6)} ${units(v)} units` : `${k} ${v}`))
        .join(', ') || 'none';
    } else {
      shown = String(value);
    }
    return `${key}: ${shown}`;
  });
  return parts.join('; ');
}

export function forgetAudit() {
  oldest = null;
  $('#audit-rows').replaceChildren();
}

export function initAudit() {
  $('#refresh-audit').addEventListener('click', (e) => loadAudit(false, e.currentTarget));
  $('#audit-more').addEventListener('click', (e) => loadAudit(true, e.currentTarget));
}
