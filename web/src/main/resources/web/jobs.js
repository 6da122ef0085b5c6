// The jobs view: every tenant's jobs, newest first, filtered by status, tenant and model, a page
// at a time; why a job failed or was canceled, which worker node holds a running one, and
// canceling a job that has not finished.

import { api, run } from './api.js';
import { $, badge, el, say, when } from './ui.js';

// a page of jobs: a screenful to scan for the stuck or failed one, within the API's maximum (100)
const PAGE = 50;

const TONES = { queued: 'warn', running: 'warn', succeeded: 'good', failed: 'bad', canceled: 'bad' };

let next = null; // the cursor of the page after the last one shown

/** Shows the view: the filters' choices, then the newest jobs that pass them. */
export async function showJobs() {
  $('#jobs-title').focus();
  await Promise.all([loadChoices(), loadJobs(false)]);
}

/** The tenants and models to filter by, keeping what is chosen. */
async function loadChoices() {
  const [tenants, registry] = await Promise.all([
    run(() => api('GET', '/admin/tenants')),
    run(() => api('GET', '/admin/models')),
  ]);
  if (tenants !== undefined) {
    const named = (t) => (t.status === 'deleted' ? `${t.name} (deleted)` : t.name);
    fill($('#jobs-tenant'), tenants.map((t) => [t.id, named(t)]));
  }
  if (registry !== undefined) fill($('#jobs-model'), registry.models.map((m) => [m.name, m.name]));
}

function fill(select, choices) {
  const chosen = select.value;
  select.replaceChildren(
    el('option', { value: '' }, 'any'),
    ...choices.map(([value, text]) => el('option', { value }, text)),
  );
  if (choices.some(([value]) => value === chosen)) select.value = chosen;
}

/** The filters chosen, as the query of GET /admin/jobs. */
function query() {
  const q = new URLSearchParams({ limit: String(PAGE) });
  for (const name of ['status', 'tenant', 'model']) {
    const value = $(`#jobs-${name}`).value;
    if (value) q.set(name, value);
  }
  return q;
}

async function loadJobs(more, button) {
  const q = query();
  if (more && next) q.set('cursor', next);
  const answer = await run(() => api('GET', `/admin/jobs?${q}`), button);
  if (answer === undefined) return;
  const rows = answer.jobs.map(jobRow);
  if (more) $('#job-rows').append(...rows);
  else $('#job-rows').replaceChildren(...rows);
  next = answer.nextCursor;
  $('#jobs-empty').hidden = $('#job-rows').children.length > 0;
  $('#jobs-more').hidden = !next;
}

function jobRow(job) {
  const row = el(
    'tr',
    { 'data-testid': 'job-row', 'data-job-id': job.id, 'data-status': job.status },
    el('td', {}, when(job.timings.createdAt)),
    el('td', {}, el('span', {}, job.tenantName), el('code', { class: 'id' }, job.tenantId)),
    el('th', { scope: 'row' }, el('code', { class: 'ref' }, job.model), el('code', { class: 'id' }, job.id)),
    el('td', { 'data-testid': 'job-status' }, badge(job.status, TONES[job.status] || 'warn'), lease(job)),
    el('td', { class: 'number' }, `${job.attempts} of ${job.maxAttempts}`),
    el('td', { class: 'number' }, timing(job.timings)),
    el('td', { class: 'details', 'data-testid': 'job-error' }, ...error(job)),
    el('td', { class: 'actions' }),
  );
  if (job.status === 'queued' || job.status === 'running') {
    const cancel = el('button', { type: 'button', class: 'button danger small',
      'data-testid': 'cancel-job-button', 'aria-label': `Cancel the ${job.model} job of ${job.tenantName}` },
    'Cancel');
    cancel.addEventListener('click', () => cancelJob(job, row, cancel));
    row.lastChild.append(cancel);
  }
  return row;
}

/** How far a running job has got, if it says, the worker node holding it, and until when. */
function lease(job) {
  if (!job.lease) return null;
  const until = `lease until ${job.lease.expiresAt}`;
  const done = job.progress === undefined ? '' : `${Math.round(job.progress * 100)}% done, `;
  return el('span', { class: 'source', title: until }, `${done}on ${job.lease.owner}`);
}

/** Time queued (creation to start) and in all (creation to finish), as far as they are known. */
function timing(t) {
  const queued = t.queuedMs === undefined ? '—' : seconds(t.queuedMs);
  const total = t.totalMs === undefined ? '—' : seconds(t.totalMs);
  return `${queued} / ${total}`;
}

function seconds(ms) {
  return ms < 10000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms / 1000).toLocaleString('en-US')} s`;
}

function error(job) {
  if (!job.error) return [el('span', { class: 'muted' }, '—')];
  return [el('code', {}, job.error.type), ' ', el('span', {}, job.error.detail)];
}

async function cancelJob(job, row, button) {
  const question =
    `Cancel the ${job.model} job of ${job.tenantName}? It stops at once, ` +
    'and a result its worker still produces is discarded and not billed.';
  if (!window.confirm(question)) return;
  const canceled = await run(() => api('POST', `/admin/jobs/${job.id}/cancel`), button);
  if (canceled === undefined) {
    // it may have finished meanwhile: show it as it is now
    const now = await run(() => api('GET', `/admin/jobs/${job.id}`));
    if (now !== undefined && row.isConnected) row.replaceWith(jobRow(now));
    return;
  }
  if (row.isConnected) row.replaceWith(jobRow(canceled));
  say(`Canceled the ${job.model} job of ${job.tenantName}.`);
  $('#jobs-title').focus();
}

export function forgetJobs() {
  next = null;
  $('#jobs-status').value = '';
  $('#job-rows').replaceChildren();
  for (const selector of ['#jobs-tenant', '#jobs-model']) {
    $(selector).replaceChildren(el('option', { value: '' }, 'any'));
  }
}

export function initJobs() {
  $('#jobs-filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadJobs(false, $('[data-testid="filter-jobs-button"]'));
  });
  $('#refresh-jobs').addEventListener('click', (e) => loadJobs(false, e.currentTarget));
  $('#jobs-more').addEventListener('click', (e) => loadJobs(true, e.currentTarget));
}
