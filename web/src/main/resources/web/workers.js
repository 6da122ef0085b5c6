// The workers view: the cluster's nodes as the API node sees them (roles, status, the leader),
// what each worker last said about itself (device, the model versions in its memory, when), nodes
// that left, each model version's replicas and queue, the latest scaling decisions, and the latest
// model load failures with their reason.

import { api, run } from './api.js';
import { change, directionBadge, seconds } from './replicas.js';
import { $, badge, el, when } from './ui.js';

/** Shows the view with the cluster as it is now. */
export async function showWorkers() {
  $('#workers-title').focus();
  await loadWorkers();
}

async function loadWorkers(button) {
  const answer = await run(() => api('GET', '/admin/workers'), button);
  if (answer !== undefined) renderWorkers(answer);
}

function renderWorkers(view) {
  const nodes = [...view.nodes, ...view.formerNodes];
  $('#worker-rows').replaceChildren(...nodes.map(nodeRow));
  $('#workers-empty').hidden = nodes.length > 0;
  $('#version-load-rows').replaceChildren(...view.versions.map(versionLoadRow));
  $('#version-load-empty').hidden = view.versions.length > 0;
  $('#scaling-event-rows').replaceChildren(...view.scalingEvents.map(scalingEventRow));
  $('#scaling-events-empty').hidden = view.scalingEvents.length > 0;
  $('#worker-failure-rows').replaceChildren(...view.recentFailures.map(failureRow));
  $('#worker-failures-empty').hidden = view.recentFailures.length > 0;
}

function nodeRow(node) {
  return el(
    'tr',
    { 'data-testid': 'worker-row', 'data-address': node.address, 'data-status': node.status,
      class: node.member ? null : 'former' },
    el('th', { scope: 'row' }, el('code', { class: 'id' }, node.address), ...marks(node)),
    el('td', {}, node.roles.length > 0 ? node.roles.join(', ') : el('span', { class: 'muted' }, '—')),
    el('td', { 'data-testid': 'worker-status' }, status(node)),
    el('td', { 'data-testid': 'worker-device' }, device(node)),
    el('td', { 'data-testid': 'worker-resident' }, ...resident(node)),
    el('td', { 'data-testid': 'worker-heartbeat' }, heartbeat(node)),
  );
}

function marks(node) {
  const out = [];
  if (node.leader) out.push(' ', badge('leader', 'good'));
  if (node.self) out.push(' ', el('span', { class: 'muted' }, '(this node)'));
  return out;
}

function status(node) {
  if (!node.member) return badge('gone', 'bad');
  if (!node.reachable) return el('span', {}, badge('unreachable', 'bad'), ` ${node.status}`);
  return badge(node.status, node.status === 'up' ? 'good' : 'warn');
}

function device(node) {
  if (!node.device) {
    const why = node.roles.includes('worker') ? 'no heartbeat yet' : 'not a worker';
    return el('span', { class: 'muted' }, why);
  }
  return el('span', { title: node.device.description },
    badge(node.device.kind.toUpperCase(), node.device.kind === 'gpu' ? 'good' : 'warn'));
}

function resident(node) {
  if (!node.member) return [el('span', { class: 'muted' }, 'none (left the cluster)')];
  if (node.resident.length === 0) {
    return [el('span', { class: 'muted' }, node.device ? 'no model in memory' : '—')];
  }
  const items = node.resident.map((r) => el(
    'li',
    { 'data-testid': 'resident-version', 'data-ref': r.version },
    el('code', {}, r.version), ` ${size(r.bytes)}`, r.pinned ? ' (pinned)' : null,
  ));
  const budget = node.memoryBudgetBytes ? ` of ${size(node.memoryBudgetBytes)}` : '';
  return [el('ul', { class: 'resident' }, ...items),
    el('span', { class: 'muted' }, `${size(node.residentBytes)}${budget} in use`)];
}

function heartbeat(node) {
  if (!node.heartbeat) return el('span', { class: 'muted' }, 'never');
  const at = when(node.heartbeat.at);
  return node.heartbeat.late ? el('span', {}, at, ' ', badge('late', 'bad')) : at;
}

/** A version's load as its runner last reported it. */
function versionLoadRow(v) {
  return el(
    'tr',
    { 'data-testid': 'version-load-row', 'data-ref': v.version },
    el('th', { scope: 'row' }, el('code', {}, v.version)),
    el('td', { class: 'number', 'data-testid': 'version-load-replicas' }, String(v.replicas)),
    el('td', { class: 'number', 'data-testid': 'version-load-queued' }, String(v.queued)),
    el('td', { 'data-testid': 'version-load-wait' }, ...wait(v)),
  );
}

/** The expected wait of a job submitted now against the bound past which jobs are refused. */
function wait(v) {
  const shown = [`${seconds(v.expectedWaitSeconds)} of ${seconds(v.maxWaitSeconds)}`];
  if (v.expectedWaitSeconds > v.maxWaitSeconds / 2) {
    shown.push(' ', el('span', { title: `New jobs are refused past ${seconds(v.maxWaitSeconds)}.`,
      'data-testid': 'version-load-warning' }, badge('over half', 'warn')));
  }
  return shown;
}

function scalingEventRow(e) {
  return el(
    'tr',
    { 'data-testid': 'scaling-event-row', 'data-ref': e.version, 'data-direction': e.direction },
    el('td', {}, when(e.at)),
    el('th', { scope: 'row' }, el('code', {}, e.version)),
    el('td', { class: 'change', 'data-testid': 'scaling-event-change' },
      directionBadge(e.direction), ` ${change(e)}`),
    el('td', {}, el('code', { class: 'id' }, e.node)),
    el('td', { class: 'load-detail', 'data-testid': 'scaling-event-reason' }, e.reason),
  );
}

function failureRow(f) {
  return el(
    'tr',
    { 'data-testid': 'load-failure-row', 'data-ref': f.version },
    el('td', {}, when(f.at)),
    el('th', { scope: 'row' }, el('code', {}, f.version)),
    el('td', {}, el('code', { class: 'id' }, f.node), f.member ? null : el('span', { class: 'muted' }, ' (gone)')),
    el('td', { class: 'load-detail', 'data-testid': 'load-failure-detail' }, f.detail),
  );
}

/** Bytes as MB or GB, decimal like the config's sizes, e.g. 4823120 → "4.8 MB". */
function size(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

export function forgetWorkers() {
  $('#worker-rows').replaceChildren();
  $('#version-load-rows').replaceChildren();
  $('#scaling-event-rows').replaceChildren();
  $('#worker-failure-rows').replaceChildren();
}

export function initWorkers() {
  $('#refresh-workers').addEventListener('click', (e) => loadWorkers(e.currentTarget));
}
