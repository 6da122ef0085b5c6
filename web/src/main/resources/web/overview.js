// The overview, the console's first view: the last hour's jobs per minute by status, latency and
// queue wait by model version, failures by type, each worker's replicas and model memory, and this
// month's revenue by day and top tenants. Charts are Chart.js (served by the node from its WebJar,
// loaded as the global Chart); every chart's numbers are also in a table beside it. While the view
// is open it follows the platform.

import { api, run } from './api.js';
import { $, count, el, units } from './ui.js';

const REFRESH_EVERY_MS = 5000;

const STATUSES = ['succeeded', 'failed', 'canceled', 'running', 'queued'];
const COLOURS = {
  succeeded: '#2e8b57', failed: '#c0392b', canceled: '#8e6c8a', running: '#2456d6', queued: '#d4a017',
  p50: '#2456d6', p95: '#7aa0f0', wait50: '#d4a017', wait95: '#efcf73', memory: '#2e8b57', revenue: '#2456d6',
};

const charts = {}; // Chart.js instances by canvas id, updated in place
let timer = null;

/** Shows the view and follows the platform while it stays open. */
export async function showOverview() {
  $('#overview-title').focus();
  await refresh();
}

async function refresh(button) {
  clearTimeout(timer);
  const o = await run(() => api('GET', '/admin/overview?minutes=60'), button);
  if (o !== undefined) render(o);
  if (!$('#overview-view').hidden) timer = setTimeout(refresh, REFRESH_EVERY_MS);
}

function render(o) {
  $('#overview-window').textContent =
    `Jobs in the last ${o.minutes} minutes (to ${new Date(o.to).toLocaleTimeString()}); revenue and tenants in ${o.month}.`;

  const totals = Object.fromEntries(STATUSES.map((s) => [s, o.jobsPerMinute.reduce((n, m) => n + m[s], 0)]));
  $('#overview-totals').replaceChildren(...STATUSES.map((s) => el('div', { class: 'tile' },
    el('span', { class: 'tile-value', 'data-testid': `overview-total-${s}` }, count(totals[s])),
    el('span', { class: 'tile-label' }, s))));

  const minutes = o.jobsPerMinute.map((m) => new Date(m.minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  draw('overview-jobs-chart', 'bar', minutes,
    STATUSES.map((s) => ({ label: s, data: o.jobsPerMinute.map((m) => m[s]), backgroundColor: COLOURS[s] })),
    { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'jobs' } } } });

  const models = o.latencyByModel.map((l) => l.model);
  draw('overview-latency-chart', 'bar', models, [
    { label: 'latency p50', data: o.latencyByModel.map((l) => l.p50Ms), backgroundColor: COLOURS.p50 },
    { label: 'latency p95', data: o.latencyByModel.map((l) => l.p95Ms), backgroundColor: COLOURS.p95 },
    { label: 'queue wait p50', data: o.latencyByModel.map((l) => l.queueWaitP50Ms), backgroundColor: COLOURS.wait50 },
    { label: 'queue wait p95', data: o.latencyByModel.map((l) => l.queueWaitP95Ms), backgroundColor: COLOURS.wait95 },
  ], { scales: { y: { beginAtZero: true, title: { display: true, text: 'ms' } } } });
  $('#overview-latency-rows').replaceChildren(...o.latencyByModel.map((l) => el('tr', { 'data-testid': 'overview-latency-row', 'data-model': l.model },
    el('th', { scope: 'row' }, l.model), el('td', { class: 'number' }, count(l.jobs)),
    el('td', { class: 'number' }, ms(l.p50Ms)), el('td', { class: 'number' }, ms(l.p95Ms)),
    el('td', { class: 'number' }, ms(l.queueWaitP50Ms)), el('td', { class: 'number' }, ms(l.queueWaitP95Ms)))));

  $('#overview-failure-rows').replaceChildren(...o.failuresByType.map((f) => el('tr', { 'data-testid': 'overview-failure-row', 'data-type': f.type },
    el('th', { scope: 'row' }, el('code', {}, f.type)), el('td', { class: 'number' }, count(f.jobs)))));
  $('#overview-failures-empty').hidden = o.failuresByType.length > 0;

  const workers = o.workers.map((w) => w.node.replace(/^pekko:\/\/[^@]+@/, ''));
  draw('overview-workers-chart', 'bar', workers, [
    { label: 'model memory (MB)', data: o.workers.map((w) => Math.round(w.memoryBytes / 1e6)), backgroundColor: COLOURS.memory },
  ], { indexAxis: 'y', scales: { x: { beginAtZero: true } } });
  $('#overview-worker-rows').replaceChildren(...o.workers.map((w, i) => el('tr', { 'data-testid': 'overview-worker-row' },
    el('th', { scope: 'row' }, workers[i]), el('td', {}, w.device),
    el('td', { class: 'number', 'data-testid': 'overview-worker-replicas' }, count(w.replicas)),
    el('td', { class: 'number' }, `${Math.round(w.memoryBytes / 1e6)} of ${Math.round(w.memoryBudgetBytes / 1e6)} MB`),
    el('td', {}, w.late ? 'late' : 'beating'))));

  draw('overview-revenue-chart', 'bar', o.revenueByDay.map((d) => d.day.slice(5)), [
    { label: 'revenue (units)', data: o.revenueByDay.map((d) => Number(d.amountMicros) / 1e6), backgroundColor: COLOURS.revenue },
  ], { scales: { y: { beginAtZero: true } } });
  $('#overview-tenant-rows').replaceChildren(...o.topTenants.map((t) => el('tr', { 'data-testid': 'overview-tenant-row', 'data-tenant-id': t.tenantId },
    el('th', { scope: 'row' }, t.tenantName), el('td', { class: 'number' }, units(t.amountMicros)))));
}

function ms(value) {
  return `${value.toFixed(1)} ms`;
}

/** Draws a chart, or gives the one already drawn on the canvas new data without a new chart. */
function draw(id, type, labels, datasets, options) {
  const chart = charts[id];
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    chart.update('none');
    return;
  }
  if (typeof window.Chart !== 'function') return; // the tables still say it all
  charts[id] = new window.Chart($(`#${id}`), {
    type,
    data: { labels, datasets },
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...options },
  });
}

export function forgetOverview() {
  clearTimeout(timer);
  for (const id of Object.keys(charts)) {
    charts[id].destroy();
    delete charts[id];
  }
}

export function initOverview() {
  $('#refresh-overview').addEventListener('click', (e) => refresh(e.currentTarget));
}
