// The trainings view: every tenant's trainings, newest first, and one training at a time with a
// chart of its epochs (losses and validation accuracy), its confusion matrix once it ended, and
// canceling one that has not. While a shown training runs, the view follows it.

import { api, run } from './api.js';
import { tenantName } from './tenants.js';
import { $, badge, el, say, when } from './ui.js';

// a training's epoch takes seconds: often enough to watch it move, rarely enough to cost nothing
const FOLLOW_EVERY_MS = 2000;

const TONES = { queued: 'warn', running: 'warn', succeeded: 'good', failed: 'bad', canceled: 'bad' };
const SVG = 'http://www.w3.org/2000/svg';

let shown = null; // the id of the training whose details are open
let follow = null; // the timer that refreshes a running training

/** Shows the view: the list, and the open training again if one was. */
export async function showTrainings() {
  $('#trainings-title').focus();
  await loadTrainings();
  if (shown) await openTraining(shown);
}

async function loadTrainings(button) {
  const status = $('#trainings-status').value;
  const q = new URLSearchParams({ limit: '50' });
  if (status) q.set('status', status);
  const answer = await run(() => api('GET', `/admin/trainings?${q}`), button);
  if (answer === undefined) return;
  $('#training-rows').replaceChildren(...answer.trainings.map(trainingRow));
  $('#trainings-empty').hidden = answer.trainings.length > 0;
}

function trainingRow(t) {
  const open = el('button', { type: 'button', class: 'button link', 'data-testid': 'open-training-button' },
    t.model);
  open.addEventListener('click', () => openTraining(t.id));
  return el(
    'tr',
    { 'data-testid': 'training-row', 'data-training-id': t.id, 'data-status': t.status },
    el('th', { scope: 'row' }, open),
    el('td', {}, t.tenantName || tenantName(t.tenantId) || t.tenantId),
    el('td', {}, badge(t.status, TONES[t.status] || 'warn')),
    el('td', { class: 'number', 'data-testid': 'training-epochs' }, `${t.progress.epoch} / ${t.progress.epochs}`),
    el('td', { class: 'number', 'data-testid': 'training-accuracy' },
      t.task === 'denoise' ? psnr(t.progress.validationPsnr) : percent(t.progress.validationAccuracy)),
    el('td', {}, when(t.createdAt)),
  );
}

function psnr(db) {
  return typeof db === 'number' ? `${db.toFixed(2)} dB` : '–';
}

function percent(fraction) {
  return typeof fraction === 'number' ? `${(fraction * 100).toFixed(1)} %` : '–';
}

/** Opens a training's details, and follows it while it has not ended. */
async function openTraining(id) {
  shown = id;
  clearTimeout(follow);
  const t = await run(() => api('GET', `/admin/trainings/${encodeURIComponent(id)}`));
  if (t === undefined || shown !== id) return;
  renderDetails(t);
  if (t.status === 'queued' || t.status === 'running') {
    follow = setTimeout(async () => {
      if (!$('#trainings-view').hidden && shown === id) {
        await loadTrainings();
        await openTraining(id);
      }
    }, FOLLOW_EVERY_MS);
  }
}

function renderDetails(t) {
  const box = $('#training-details');
  box.hidden = false;
  box.dataset.trainingId = t.id;
  box.dataset.status = t.status;
  const facts = [
    ['Model', el('code', {}, t.model)],
    ['Tenant', t.tenantName || tenantName(t.tenantId) || t.tenantId],
    ['Status', badge(t.status, TONES[t.status] || 'warn')],
    ['Task', t.task],
    ['Classes', t.classes.length > 0 ? t.classes.join(', ') : '–'],
    ['Images', t.trainImages === null ? String(t.images) : `${t.images} (${t.trainImages} train)`],
    ['Epoch', `${t.progress.epoch} of at most ${t.progress.epochs}`],
  ];
  if (t.task === 'denoise') {
    facts.push(['Validation PSNR', psnr(t.progress.validationPsnr)]);
    if (t.report) facts.push(['Held-out gain', `${t.report.gainDb.toFixed(2)} dB (${t.report.noisyPsnr.toFixed(2)} → ${t.report.denoisedPsnr.toFixed(2)} dB)`]);
  } else {
    facts.push(['Validation accuracy', percent(t.progress.validationAccuracy)]);
  }
  if (t.progress.etaSeconds !== undefined) facts.push(['Time left (at most)', `${t.progress.etaSeconds} s`]);
  if (t.error) facts.push(['Error', `${t.error.type}: ${t.error.detail}`]);
  const cancel = el('button', { type: 'button', class: 'button danger small', 'data-testid': 'cancel-training-button' },
    'Cancel training');
  cancel.addEventListener('click', () => cancelTraining(t, cancel));
  cancel.hidden = !(t.status === 'queued' || t.status === 'running');
  box.replaceChildren(
    el('h2', { id: 'training-details-title' }, `Training ${t.model}`),
    el('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    chart(t.history),
    t.report && t.report.confusion ? confusion(t.report) : '',
    cancel,
  );
}

async function cancelTraining(t, button) {
  if (!confirm(`Cancel the training of ${t.model}? Epochs done so far stay billed.`)) return;
  const answer = await run(() => api('POST', `/admin/trainings/${encodeURIComponent(t.id)}/cancel`), button);
  if (answer === undefined) return;
  say(`Canceled the training of ${t.model}.`);
  renderDetails(answer);
  await loadTrainings();
}

// ---- the chart: losses on the left scale, validation accuracy (0 to 100 %) on the right ----

const WIDTH = 560;
const HEIGHT = 220;
const PAD = { left: 44, right: 44, top: 12, bottom: 28 };

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function chart(history) {
  const figure = el('figure', { class: 'chart', 'data-testid': 'training-chart' });
  if (history.length === 0) {
    figure.append(el('p', { class: 'empty' }, 'No epoch has finished yet.'));
    return figure;
  }
  const epochs = history.length;
  const maxLoss = Math.max(...history.flatMap((e) => [e.trainLoss, e.validationLoss])) || 1;
  const x = (i) => PAD.left + (epochs === 1 ? 0.5 : i / (epochs - 1)) * (WIDTH - PAD.left - PAD.right);
  const yLoss = (v) => PAD.top + (1 - v / maxLoss) * (HEIGHT - PAD.top - PAD.bottom);
  const yAcc = (v) => PAD.top + (1 - v) * (HEIGHT - PAD.top - PAD.bottom);
  const line = (name, pick, y) => svg('polyline', {
    class: `series ${name}`,
    'data-series': name,
    'data-points': epochs,
    points: history.map((e, i) => `${x(i).toFixed(1)},${y(pick(e)).toFixed(1)}`).join(' '),
  });
  const bottom = HEIGHT - PAD.bottom;
  const axes = svg('g', { class: 'axes' },
    svg('line', { x1: PAD.left, y1: bottom, x2: WIDTH - PAD.right, y2: bottom }),
    svg('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom }),
    svg('line', { x1: WIDTH - PAD.right, y1: PAD.top, x2: WIDTH - PAD.right, y2: bottom }),
    svg('text', { x: PAD.left - 6, y: PAD.top + 10, 'text-anchor': 'end' }, maxLoss.toFixed(2)),
    svg('text', { x: PAD.left - 6, y: bottom, 'text-anchor': 'end' }, '0'),
    svg('text', { x: WIDTH - PAD.right + 6, y: PAD.top + 10 }, '100 %'),
    svg('text', { x: WIDTH - PAD.right + 6, y: bottom }, '0 %'),
    svg('text', { x: PAD.left, y: HEIGHT - 8 }, 'epoch 1'),
    svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 8, 'text-anchor': 'end' }, `epoch ${epochs}`));
  const plot = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img',
    'aria-label': `Losses and validation accuracy over ${epochs} epoch(s)`,
  },
  axes,
  line('train-loss', (e) => e.trainLoss, yLoss),
  line('validation-loss', (e) => e.validationLoss, yLoss),
  // a denoiser's epochs have no accuracy: its PSNR is in the facts above
  ...(history[0].validationAccuracy === undefined ? [] : [line('validation-accuracy', (e) => e.validationAccuracy, yAcc)]));
  figure.append(plot, el('figcaption', {},
    el('span', { class: 'key train-loss' }, 'training loss'), ' ',
    el('span', { class: 'key validation-loss' }, 'validation loss'), ' ',
    el('span', { class: 'key validation-accuracy' }, 'validation accuracy (right scale)')));
  return figure;
}

function confusion(report) {
  const head = el('tr', {}, el('th', { scope: 'col' }, 'actual \\ predicted'),
    ...report.classes.map((c) => el('th', { scope: 'col' }, c)));
  const rows = report.confusion.map((row, i) => el('tr', {},
    el('th', { scope: 'row' }, report.classes[i]),
    ...row.map((n, j) => el('td', { class: `number${i === j ? ' diagonal' : ''}` }, String(n)))));
  return el('div', { class: 'table-wrap' },
    el('table', { 'data-testid': 'training-confusion' },
      el('caption', {}, `Validation images by class (best epoch ${report.bestEpoch}, accuracy ${percent(report.validationAccuracy)})`),
      el('thead', {}, head), el('tbody', {}, ...rows)));
}

export function forgetTrainings() {
  shown = null;
  clearTimeout(follow);
  $('#training-rows').replaceChildren();
  $('#training-details').hidden = true;
  $('#training-details').replaceChildren();
}

export function initTrainings() {
  $('#refresh-trainings').addEventListener('click', (e) => loadTrainings(e.currentTarget));
  $('#trainings-status').addEventListener('change', () => loadTrainings());
}
