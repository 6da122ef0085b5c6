// Retina admin console: tenants (plan, status, quota, keys), every tenant's jobs, invoices, the
// model registry, the worker cluster and the audit trail, over the admin API (/admin), with the
// admin token kept in this tab's sessionStorage. No dependencies. This module signs in and out,
// picks the view from the address and watches the node's health; each view is a module of its own.

import { api, clearToken, run, setToken, token, whenUnauthorized } from './api.js';
import { forgetAudit, initAudit, showAudit } from './audit.js';
import { forgetInvoices, initInvoices, showInvoices } from './invoices.js';
import { forgetJobs, initJobs, showJobs } from './jobs.js';
import { forgetModels, initModels, showModels } from './models.js';
import { forgetPlans } from './tenant-settings.js';
import { closeTenant, forgetTenants, initTenants, openTenant, renderTenants, tenantName } from './tenants.js';
import { forgetOverview, initOverview, showOverview } from './overview.js';
import { forgetTrainings, initTrainings, showTrainings } from './trainings.js';
import { $, required, say } from './ui.js';
import { forgetWorkers, initWorkers, showWorkers } from './workers.js';

// often enough to notice a node going down while someone works in the console
const HEALTH_EVERY_MS = 15000;

const VIEWS = {
  overview: '#overview-view',
  tenants: '#admin-view',
  jobs: '#jobs-view',
  invoices: '#invoices-view',
  models: '#models-view',
  trainings: '#trainings-view',
  workers: '#workers-view',
  audit: '#audit-view',
};

// ---- sign in / out ----

async function signIn(event) {
  event.preventDefault();
  const input = $('#token');
  const value = required(input, 'Enter the admin token.');
  if (!value) return;
  setToken(value);
  const button = $('[data-testid="login-button"]');
  button.disabled = true;
  let tenants;
  try {
    tenants = await api('GET', '/admin/tenants');
  } catch (e) {
    clearToken();
    const refused = e.status === 401 || e.status === 403;
    say(refused ? { title: 'The admin token was not accepted.', detail: 'Check it and try again.' } : e,
      'error');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    input.select();
    return;
  } finally {
    button.disabled = false;
  }
  input.value = '';
  input.removeAttribute('aria-invalid');
  say('Signed in.');
  showAdmin(tenants);
  checkWebhooks();
  if (!location.hash.startsWith('#tenant=')) $(`${VIEWS[viewOf(location.hash)]} h1`).focus();
}

function signOut() {
  clearToken();
  forgetTenants();
  forgetInvoices();
  forgetJobs();
  forgetModels();
  forgetWorkers();
  forgetTrainings();
  forgetOverview();
  forgetAudit();
  forgetPlans();
  $('#disabled-webhooks').hidden = true;
  for (const selector of Object.values(VIEWS)) $(selector).hidden = true;
  $('#sections').hidden = true;
  $('#logout').hidden = true;
  $('#login-view').hidden = false;
  if (location.hash) history.replaceState(null, '', location.pathname);
  $('#token').focus();
}

function showAdmin(tenants) {
  $('#login-view').hidden = true;
  $('#logout').hidden = false;
  $('#sections').hidden = false;
  renderTenants(tenants);
  route();
}

// ---- views, by the address: #overview (the first), #tenants, #tenant=<id>, #jobs, #invoices, #models, #trainings, #workers,
// #audit ----

function viewOf(hash) {
  if (hash === '' || hash === '#overview') return 'overview';
  if (hash === '#jobs') return 'jobs';
  if (hash === '#invoices') return 'invoices';
  if (hash === '#models') return 'models';
  if (hash === '#trainings') return 'trainings';
  if (hash === '#workers') return 'workers';
  if (hash === '#audit') return 'audit';
  return 'tenants';
}

function route() {
  if (!token() || !$('#login-view').hidden) return;
  const view = viewOf(location.hash);
  for (const [name, selector] of Object.entries(VIEWS)) $(selector).hidden = name !== view;
  for (const link of document.querySelectorAll('#sections a')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (view === 'overview') {
    showOverview();
  } else if (view === 'jobs') {
    showJobs();
  } else if (view === 'invoices') {
    showInvoices();
  } else if (view === 'models') {
    showModels();
  } else if (view === 'trainings') {
    showTrainings();
  } else if (view === 'workers') {
    showWorkers();
  } else if (view === 'audit') {
    showAudit();
  } else {
    const match = /^#tenant=([0-9a-fA-F-]{36})$/.exec(location.hash);
    if (match) openTenant(match[1]);
    else closeTenant();
  }
}

// ---- node health ----

async function checkHealth() {
  const box = $('#health');
  let [stateName, text] = ['down', 'Node unreachable'];
  let degraded = [];
  try {
    const response = await fetch('/health/ready', { cache: 'no-store' });
    const body = await response.json().catch(() => ({}));
    const reasons = Array.isArray(body.reasons) ? `: ${body.reasons.join('; ')}` : '';
    [stateName, text] = response.ok ? ['ready', 'Node ready'] : ['not-ready', `Node not ready${reasons}`];
    degraded = response.ok && Array.isArray(body.degraded) ? body.degraded : [];
    if (degraded.length > 0) {
      [stateName, text] = ['degraded', `Node ready; ${degraded.length} model load failure(s)`];
    }
  } catch {
    // the node did not answer: stays "unreachable"
  }
  showDegraded(degraded);
  box.dataset.state = stateName;
  box.title = text;
  $('#health-text').textContent = text;
}

// Active versions some node failed to load: tenants get them by default, so they are shown on
// every view until they load or another version is promoted.
function showDegraded(degraded) {
  const banner = $('#degraded');
  const list = $('#degraded-list');
  list.replaceChildren(...degraded.map((d) => {
    const item = document.createElement('li');
    item.dataset.testid = 'degraded-model';
    const model = document.createElement('strong');
    model.textContent = d.model;
    item.append(model, ` on ${d.node}: ${d.reason}`);
    return item;
  }));
  banner.hidden = degraded.length === 0;
}

// Tenants' webhook endpoints the platform disabled after they failed for days: nobody is emailed,
// so the console says so on every view until the tenant turns them back on or removes them.
async function checkWebhooks() {
  if (!token()) return;
  let disabled = [];
  try {
    const answer = await api('GET', '/admin/webhook-endpoints');
    disabled = answer.endpoints.filter((e) => !e.enabled);
  } catch {
    return; // shown again at the next check
  }
  $('#disabled-webhooks-list').replaceChildren(...disabled.map((e) => {
    const item = document.createElement('li');
    item.dataset.testid = 'disabled-webhook';
    const who = document.createElement('strong');
    who.textContent = tenantName(e.tenantId) || e.tenantId;
    item.append(who, ` ${e.url}: ${e.disabledReason || 'disabled'}`);
    return item;
  }));
  $('#disabled-webhooks').hidden = disabled.length === 0;
}

// ---- start ----

function start() {
  whenUnauthorized(signOut);
  initTenants();
  initInvoices();
  initJobs();
  initModels();
  initWorkers();
  initTrainings();
  initOverview();
  initAudit();
  $('#login-form').addEventListener('submit', signIn);
  $('#logout').addEventListener('click', () => {
    signOut();
    say('Signed out.');
  });
  window.addEventListener('hashchange', route);

  checkHealth();
  setInterval(checkHealth, HEALTH_EVERY_MS);
  checkWebhooks();
  setInterval(checkWebhooks, HEALTH_EVERY_MS);

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
