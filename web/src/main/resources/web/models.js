// The models view: the model registry, a section per model with its versions (status,
// provenance, price, batching and how each node last loaded it), promoting, retiring and
// rolling back versions, each version's replicas (replicas.js), and uploading a new version of a
// model as a zip.

import { api, run } from './api.js';
import { forgetReplicas, replicaPanel } from './replicas.js';
import { $, badge, el, money, say, statusBadge, when } from './ui.js';

// enough of a digest to tell versions apart at a glance; the whole one is in its tooltip
const DIGEST_SHOWN = 19;

// the versions table's columns, which a version's replica panel spans
const VERSION_COLUMNS = 6;

/** Shows the view with the registry as it is now. */
export async function showModels() {
  $('#models-title').focus();
  await loadModels();
}

async function loadModels(button) {
  const answer = await run(() => api('GET', '/admin/models'), button);
  if (answer !== undefined) renderModels(answer.models);
}

function renderModels(list) {
  $('#model-list').replaceChildren(...list.map(modelSection));
  $('#models-empty').hidden = list.length > 0;
  const select = $('#upload-model');
  const chosen = select.value;
  select.replaceChildren(...list.map((m) => el('option', { value: m.name }, m.name)));
  if (list.some((m) => m.name === chosen)) select.value = chosen;
}

function modelSection(model) {
  const titleId = `model-${model.name}`;
  const head = el(
    'div',
    { class: 'card-head model-head' },
    el('h2', { id: titleId, tabindex: '-1' }, model.name, ' ', el('code', { class: 'task' }, model.task)),
  );
  if (model.previousVersion !== null && model.previousVersion !== undefined) {
    const back = el('button', { type: 'button', class: 'button secondary small',
      'data-testid': 'rollback-model-button',
      'aria-label': `Roll back ${model.name} to version ${model.previousVersion}` },
    `Roll back to @${model.previousVersion}`);
    back.addEventListener('click', () => rollback(model, back));
    head.append(back);
  }
  const active = model.activeVersion === null || model.activeVersion === undefined
    ? 'No active version: only jobs that pin a version run.'
    : `Jobs naming ${model.name} run on @${model.activeVersion}.`;
  return el(
    'section',
    { class: 'model', 'data-testid': 'model', 'data-model': model.name, 'aria-labelledby': titleId },
    head,
    el('p', { class: 'model-description' }, model.description),
    el('p', { class: 'model-active', 'data-testid': 'model-active' }, active),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'versions', 'data-testid': 'model-versions', 'aria-labelledby': titleId },
        el(
          'thead',
          {},
          el('tr', {}, el('th', { scope: 'col' }, 'Version'), el('th', { scope: 'col' }, 'Status'),
            el('th', { scope: 'col' }, 'Artifact'), el('th', { scope: 'col' }, 'Price and batching'),
            el('th', { scope: 'col' }, 'Loads'),
            el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions'))),
        ),
        el('tbody', {}, ...model.versions.flatMap((v) => versionRows(model, v))),
      ),
    ),
  );
}

/** A version's row, and under it the row of its replica panel unless it is retired. */
function versionRows(model, v) {
  const replicas = v.status === 'retired' ? null : replicaPanel(model, v, VERSION_COLUMNS);
  const row = el(
    'tr',
    { 'data-testid': 'model-version-row', 'data-ref': v.ref, 'data-status': v.status,
      class: v.status === 'retired' ? 'revoked' : null },
    el('th', { scope: 'row' }, el('code', {}, `@${v.version}`)),
    el('td', { 'data-testid': 'version-status' }, statusBadge(v.status)),
    el(
      'td',
      {},
      el('code', {}, v.format),
      v.task !== model.task ? el('span', { class: 'source' }, `task ${v.task}`) : null,
      el('span', { class: 'source' }, provenance(v)),
      el('code', { class: 'source', title: v.digest, 'data-testid': 'version-digest' }, shorten(v.digest)),
    ),
    el(
      'td',
      {},
      el('span', { class: 'price-part' }, money(v.price.perImageMicros), ' an image'),
      el('span', { class: 'price-part' }, '+ ', money(v.price.perMegapixelMicros), ' a megapixel'),
      el('span', { class: 'source' }, batching(v)),
    ),
    el('td', { class: 'loads', 'data-testid': 'version-loads' }, ...loads(v.loads)),
    el('td', { class: 'actions' }, ...actions(model, v, replicas && replicas.toggle)),
  );
  return replicas ? [row, replicas.row] : [row];
}

function provenance(v) {
  if (!v.uploaded) return `built in, ${v.source}`;
  return v.source === 'upload' ? 'uploaded' : `uploaded, ${v.source}`;
}

function shorten(digest) {
  return digest.length > DIGEST_SHOWN + 1 ? `${digest.slice(0, DIGEST_SHOWN)}…` : digest;
}

function batching(v) {
  if (!v.batchSafe || v.maxBatchSize <= 1) return 'one job at a time';
  return `up to ${v.maxBatchSize} jobs, waiting up to ${v.maxBatchDelayMs} ms`;
}

/** How the nodes last loaded a version: those that loaded it counted, each failure with why. */
function loads(list) {
  if (list.length === 0) {
    return [el('span', { class: 'muted' }, 'not loaded yet (a node loads it with its first job)')];
  }
  const shown = [];
  const loaded = list.filter((l) => l.outcome === 'loaded');
  if (loaded.length > 0) {
    const nodes = loaded.map((l) => l.node).join(', ');
    shown.push(
      el('span', { class: 'load loaded', title: nodes, 'data-testid': 'version-loaded' },
        badge('loaded', 'good'), ` on ${loaded.length} ${loaded.length === 1 ? 'node' : 'nodes'}`),
    );
  }
  for (const l of list.filter((x) => x.outcome === 'failed')) {
    shown.push(
      el('span', { class: 'load failed', 'data-testid': 'version-load-failed' },
        badge('failed', 'bad'), ' on node ', el('code', {}, l.node), ': ',
        el('span', { class: 'load-detail' }, l.detail || 'no reason given'),
        el('span', { class: 'id' }, 'at ', when(l.at))),
    );
  }
  return shown;
}

function actions(model, v, replicas) {
  if (v.status !== 'staged') return replicas ? [replicas] : [el('span', { class: 'muted' }, '—')];
  const promote = el('button', { type: 'button', class: 'button secondary small',
    'data-testid': 'promote-version-button', 'aria-label': `Promote ${v.ref}` }, 'Promote');
  promote.addEventListener('click', () => promoteVersion(model, v, promote));
  const retire = el('button', { type: 'button', class: 'button danger small',
    'data-testid': 'retire-version-button', 'aria-label': `Retire ${v.ref}` }, 'Retire');
  retire.addEventListener('click', () => retireVersion(model, v, retire));
  return [replicas, ' ', promote, ' ', retire];
}

// ---- lifecycle ----

async function promoteVersion(model, v, button) {
  const before = model.activeVersion ? ` @${model.activeVersion} is kept staged for a rollback.` : '';
  const question = `Promote ${v.ref}? Every job naming ${model.name} runs on it from now on.${before}`;
  if (!window.confirm(question)) return;
  const path = `/admin/models/${model.name}/versions/${v.version}/promote`;
  const changed = await run(() => api('POST', path), button);
  if (changed === undefined) return;
  say(`Promoted ${v.ref}: jobs naming ${model.name} run on it now.`);
  await afterChange(model);
}

async function retireVersion(model, v, button) {
  const question = `Retire ${v.ref}? It takes no new jobs, and can never be promoted again.`;
  if (!window.confirm(question)) return;
  const path = `/admin/models/${model.name}/versions/${v.version}/retire`;
  const changed = await run(() => api('POST', path), button);
  if (changed === undefined) return;
  say(`Retired ${v.ref}.`);
  await afterChange(model);
}

async function rollback(model, button) {
  const question =
    `Roll ${model.name} back to @${model.previousVersion}? Every job naming ${model.name} runs ` +
    `on it from now on; @${model.activeVersion} is kept staged.`;
  if (!window.confirm(question)) return;
  const changed = await run(() => api('POST', `/admin/models/${model.name}/rollback`), button);
  if (changed === undefined) return;
  say(`Rolled ${model.name} back to @${changed.activeVersion}.`);
  await afterChange(model);
}

/** Shows the registry as the change left it, the changed model's heading focused. */
async function afterChange(model) {
  await loadModels();
  const heading = document.getElementById(`model-${model.name}`);
  if (heading) heading.focus();
}

// ---- a new version ----

async function uploadVersion(event) {
  event.preventDefault();
  const name = $('#upload-model').value;
  const input = $('#upload-file');
  const file = input.files[0];
  if (!name) {
    say('There is no model to upload a version of.', 'error');
    return;
  }
  if (!file) {
    input.setAttribute('aria-invalid', 'true');
    say('Choose the zip of the new version.', 'error');
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  const query = new URLSearchParams();
  if ($('#upload-format').value) query.set('format', $('#upload-format').value);
  const entry = $('#upload-entry').value.trim();
  if (entry) query.set('entry', entry);
  const path = `/admin/models/${name}/versions${query.toString() ? `?${query}` : ''}`;
  const button = $('[data-testid="upload-version-button"]');
  const version = await run(() => api('POST', path, file), button);
  if (version === undefined) return;
  $('#upload-version-form').reset();
  $('#upload-model').value = name;
  say(`Uploaded ${version.ref}, staged: jobs that pin it run on it; promote it to make it active.`);
  await afterChange({ name });
}

export function forgetModels() {
  forgetReplicas();
  $('#model-list').replaceChildren();
  $('#upload-model').replaceChildren();
}

export function initModels() {
  $('#refresh-models').addEventListener('click', (e) => loadModels(e.currentTarget));
  $('#upload-version-form').addEventListener('submit', uploadVersion);
}
