// A tenant's API keys: list, issue, rotate, revoke. A new key's secret (issued or rotated) is
// shown once, in the page only, never stored.

import { api, run } from './api.js';
import { $, badge, el, required, say, when } from './ui.js';

let current = null; // the tenant whose keys are shown

/** Shows the keys of a tenant (a deleted one's can only be listed). */
export async function showKeys(tenant) {
  if (!current || current.id !== tenant.id) {
    hideSecret();
    $('#key-rows').replaceChildren();
  }
  current = tenant;
  $('#keys-tenant').textContent = tenant.name;
  $('#issue-key-form').hidden = tenant.status === 'deleted';
  $('#keys-view').hidden = false;
  await loadKeys();
}

export function hideKeys() {
  current = null;
  hideSecret();
  $('#keys-view').hidden = true;
  $('#key-rows').replaceChildren();
}

async function loadKeys() {
  const tenant = current;
  const keys = await run(() => api('GET', `/admin/tenants/${tenant.id}/keys`));
  if (keys === undefined || current !== tenant) return;
  $('#key-rows').replaceChildren(...keys.map((k) => keyRow(tenant, k)));
  $('#keys-empty').hidden = keys.length > 0;
}

function keyRow(tenant, k) {
  const revoked = Boolean(k.revokedAt);
  const actions = el('td', { class: 'actions' });
  if (revoked) {
    actions.append(el('span', { class: 'muted' }, '—'));
  } else {
    const rotate = el('button', { type: 'button', class: 'button secondary small',
      'data-testid': 'rotate-key-button', 'aria-label': `Rotate key ${k.name}` }, 'Rotate');
    rotate.addEventListener('click', () => rotateKey(tenant, k, rotate));
    const revoke = el('button', { type: 'button', class: 'button danger small',
      'data-testid': 'revoke-key-button', 'aria-label': `Revoke key ${k.name}` }, 'Revoke');
    revoke.addEventListener('click', () => revokeKey(tenant, k, revoke));
    actions.append(rotate, ' ', revoke);
  }
  return el(
    'tr',
    { 'data-testid': 'key-row', 'data-key-id': k.id, class: revoked ? 'revoked' : null },
    el('th', { scope: 'row' }, k.name),
    el('td', {}, el('code', { title: `rtn_live_${k.prefix}…` }, `${k.prefix}…`)),
    el('td', {}, when(k.createdAt)),
    el('td', {}, when(k.lastUsedAt)),
    el('td', {}, revoked ? badge('revoked', 'bad') : badge('active', 'good')),
    actions,
  );
}

async function issueKey(event) {
  event.preventDefault();
  const tenant = current;
  const input = $('#key-name');
  const name = required(input, 'Name the key, e.g. after where it will be used.');
  if (!name) return;
  const button = $('[data-testid="issue-key-button"]');
  const issued = await run(() => api('POST', `/admin/tenants/${tenant.id}/keys`, { name }), button);
  if (issued === undefined) return;
  input.value = '';
  showSecret(issued, `Issued the key ${issued.name}. Copy its secret now: it will not be shown again.`);
  await loadKeys();
}

async function rotateKey(tenant, key, button) {
  const question =
    `Rotate the key "${key.name}" of ${tenant.name}? It stops working at once, ` +
    'and a new key with the same name replaces it.';
  if (!window.confirm(question)) return;
  const path = `/admin/tenants/${tenant.id}/keys/${key.id}/rotate`;
  const issued = await run(() => api('POST', path), button);
  if (issued === undefined) return;
  showSecret(
    issued,
    `Rotated the key ${key.name}: the old secret no longer works. Copy the new one now: ` +
      'it will not be shown again.',
  );
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

// ---- the new secret, shown once ----

function showSecret(issued, message) {
  $('#secret-value').value = issued.secret;
  $('#copy-secret').textContent = 'Copy';
  $('#issued-secret').hidden = false;
  say(message);
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

export function initKeys() {
  $('#issue-key-form').addEventListener('submit', issueKey);
  $('#copy-secret').addEventListener('click', copySecret);
  $('#dismiss-secret').addEventListener('click', dismissSecret);
}
