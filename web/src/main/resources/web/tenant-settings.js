// One tenant's settings: its plan and status, its effective quota and the overrides of its
// plan's limits, and deleting it. Tells its owner of every change through the callbacks that
// initSettings is given.

import { api, run } from './api.js';
import { $, count, el, parseUnits, say, units } from './ui.js';

/** The limits an admin can override, in the order shown. */
const LIMITS = [
  { name: 'ratePerSecond', label: 'Rate (jobs a second)', kind: 'decimal', show: (v) => String(v) },
  { name: 'burst', label: 'Burst (jobs at once)', kind: 'whole', show: count },
  { name: 'maxConcurrentJobs', label: 'Concurrent jobs', kind: 'whole', show: count },
  { name: 'maxPixels', label: 'Largest image (pixels)', kind: 'whole', show: count },
  { name: 'monthlySpendCapMicros', label: 'Monthly spend cap (currency units)', kind: 'money',
    show: units },
];

let plans = null; // GET /admin/plans, once per page
let current = null; // the tenant shown
let callbacks = { onUpdated: () => {} };

export function forgetPlans() {
  plans = null;
}

/** Shows a tenant's settings and loads its quota. */
export async function showSettings(tenant) {
  current = tenant;
  $('#tenant-name-title').textContent = tenant.name;
  const deleted = tenant.status === 'deleted';
  $('#tenant-deleted').hidden = !deleted;
  $('#delete-tenant').hidden = deleted;
  for (const form of [$('#tenant-form'), $('#quota-form')]) {
    for (const control of form.elements) control.disabled = deleted;
  }
  if (!plans) {
    const answer = await run(() => api('GET', '/admin/plans'));
    if (answer) plans = answer.plans;
  }
  if (current !== tenant) return;
  fillTenantForm(tenant);
  await loadQuota(tenant);
}

function fillTenantForm(tenant) {
  const names = (plans || []).map((p) => p.plan);
  if (!names.includes(tenant.plan)) names.push(tenant.plan);
  $('#tenant-plan').replaceChildren(...names.map((n) => el('option', { value: n }, n)));
  $('#tenant-plan').value = tenant.plan;
  $('#tenant-status').value = tenant.status === 'suspended' ? 'suspended' : 'active';
}

async function saveTenant(event) {
  event.preventDefault();
  const tenant = current;
  const patch = {};
  if ($('#tenant-plan').value !== tenant.plan) patch.plan = $('#tenant-plan').value;
  if ($('#tenant-status').value !== tenant.status) patch.status = $('#tenant-status').value;
  if (Object.keys(patch).length === 0) {
    say(`${tenant.name} is already on plan ${tenant.plan}, ${tenant.status}.`);
    return;
  }
  const button = $('[data-testid="save-tenant-button"]');
  const updated = await run(() => api('PATCH', `/admin/tenants/${tenant.id}`, patch), button);
  if (updated === undefined) return;
  say(`Saved ${updated.name}: plan ${updated.plan}, ${updated.status}.`);
  callbacks.onUpdated(updated);
}

async function deleteTenant() {
  const tenant = current;
  const question =
    `Delete the tenant "${tenant.name}"? Its keys stop working and its queued and running ` +
    'jobs are canceled at once. This cannot be undone.';
  if (!window.confirm(question)) return;
  const button = $('#delete-tenant');
  const done = await run(() => api('DELETE', `/admin/tenants/${tenant.id}`), button);
  if (done === undefined) return;
  say(`Deleted the tenant ${tenant.name}.`);
  callbacks.onUpdated({ ...tenant, status: 'deleted' });
  $('#tenant-title').focus();
}

// ---- quota ----

async function loadQuota(tenant) {
  const quota = await run(() => api('GET', `/admin/tenants/${tenant.id}/quota`));
  if (quota !== undefined && current === tenant) renderQuota(quota);
}

function renderQuota(quota) {
  const { effective, overrides } = quota;
  const items = [el('dt', {}, 'Plan'), el('dd', { 'data-testid': 'quota-effective-plan' }, effective.plan)];
  for (const limit of LIMITS) {
    const overridden = overrides[limit.name] !== null && overrides[limit.name] !== undefined;
    items.push(
      el('dt', {}, limit.label),
      el(
        'dd',
        { 'data-testid': `quota-effective-${limit.name}` },
        limit.show(effective[limit.name]),
        overridden ? ' ' : null,
        overridden ? el('span', { class: 'badge warn' }, 'override') : null,
      ),
    );
  }
  items.push(el('dt', {}, 'Queue weight'), el('dd', {}, String(effective.weight)));
  $('#quota-effective').replaceChildren(...items);

  const plan = (plans || []).find((p) => p.plan === effective.plan);
  for (const limit of LIMITS) {
    const value = overrides[limit.name];
    const input = $(`#quota-${limit.name}`);
    input.removeAttribute('aria-invalid');
    if (value === null || value === undefined) input.value = '';
    else input.value = limit.kind === 'money' ? units(value).replace(/,/g, '') : String(value);
    $(`#quota-${limit.name}-plan`).textContent = plan
      ? `Plan ${plan.plan}: ${limit.show(plan[limit.name])}`
      : '';
  }
}

/** The overrides typed in the form, or null after saying which one is not a number. */
function readOverrides() {
  const overrides = {};
  for (const limit of LIMITS) {
    const input = $(`#quota-${limit.name}`);
    const text = input.value.trim();
    input.removeAttribute('aria-invalid');
    if (!text) {
      overrides[limit.name] = null;
      continue;
    }
    let value = NaN;
    if (limit.kind === 'money') value = parseUnits(text);
    else if (limit.kind === 'whole') value = /^\d+$/.test(text) ? Number(text) : NaN;
    else value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(value)) {
      const what = limit.kind === 'money' ? 'an amount like 12.50' : limit.kind === 'whole'
        ? 'a whole number' : 'a number like 2.5';
      say(`${limit.label} must be ${what}, or empty for the plan's value.`, 'error');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return null;
    }
    overrides[limit.name] = value;
  }
  return overrides;
}

async function putQuota(overrides, button, message) {
  const tenant = current;
  const quota = await run(async () => {
    try {
      return await api('PUT', `/admin/tenants/${tenant.id}/quota`, overrides);
    } catch (e) {
      const input = e.field && $(`#quota-${e.field}`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
      throw e;
    }
  }, button);
  if (quota === undefined || current !== tenant) return;
  renderQuota(quota);
  say(message);
}

async function saveQuota(event) {
  event.preventDefault();
  const overrides = readOverrides();
  if (!overrides) return;
  const button = $('[data-testid="save-quota-button"]');
  await putQuota(overrides, button, `Saved the quota overrides of ${current.name}.`);
}

async function clearQuota(event) {
  const message = `Cleared the quota overrides of ${current.name}: it has its plan's limits.`;
  await putQuota({}, event.currentTarget, message);
}

function quotaField(limit) {
  const id = `quota-${limit.name}`;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id }, limit.label),
    el('input', {
      id,
      name: limit.name,
      autocomplete: 'off',
      inputmode: limit.kind === 'whole' ? 'numeric' : 'decimal',
      'aria-describedby': `${id}-plan`,
      'data-testid': `${id}-input`,
    }),
    el('p', { id: `${id}-plan`, class: 'hint' }),
  );
}

/** Wires the forms; `onUpdated(tenant)` hears of a tenant changed or deleted here. */
export function initSettings(given) {
  callbacks = given;
  $('#quota-fields').replaceChildren(...LIMITS.map(quotaField));
  $('#tenant-form').addEventListener('submit', saveTenant);
  $('#quota-form').addEventListener('submit', saveQuota);
  $('#clear-quota').addEventListener('click', clearQuota);
  $('#delete-tenant').addEventListener('click', deleteTenant);
}
