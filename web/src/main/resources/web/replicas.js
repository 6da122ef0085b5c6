// A model version's replicas: the panel under its row in the models view, which shows and saves
// its replica settings (a field left empty takes the node's default, shown greyed in it) with its
// recent scaling decisions; and how a scaling decision and a wait are shown, for the workers view.

import { api, run } from './api.js';
import { badge, el, say, when } from './ui.js';

/** The settings an admin can set, in the order shown; the device is a choice of its own. */
const FIELDS = [
  { name: 'minReplicas', label: 'Minimum replicas', kind: 'whole',
    hint: 'Kept once the version has run; 0 lets it leave memory when idle.' },
  { name: 'maxReplicas', label: 'Maximum replicas', kind: 'whole',
    hint: 'At most one on each worker node.' },
  { name: 'targetWaitSeconds', label: 'Target wait (seconds)', kind: 'decimal',
    hint: 'A replica is added while a new job would wait longer.' },
  { name: 'maxWaitSeconds', label: 'Longest wait (seconds)', kind: 'decimal',
    hint: 'Past it, new jobs are refused until the queue shortens.' },
];

const DEVICES = { any: 'any worker', gpu: 'GPU workers only' };

const TONES = { up: 'good', down: 'warn', lost: 'bad' };

// refs whose panel is open: a redraw of the registry (a promotion, Refresh) opens them again
const open = new Set();

/** A scaling decision's direction as a badge: up, down, or lost (a replica that went unasked). */
export function directionBadge(direction) {
  return badge(direction, TONES[direction] || 'warn');
}

/** A decision's replica counts, e.g. "0 → 1". */
export function change(event) {
  return `${event.from} → ${event.to}`;
}

/** Seconds as a person reads them: "0.5 s", "30 s", "3,600 s". */
export function seconds(value) {
  const rounded = value < 100 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${rounded.toLocaleString('en-US')} s`;
}

/**
 * The button that shows or hides a version's replica panel, and the table row the panel lives
 * in (hidden until opened), for a versions table of `columns` columns.
 */
export function replicaPanel(model, v, columns) {
  const id = `replicas-${model.name}-${v.version}`;
  const cell = el('td', { colspan: String(columns) });
  const row = el('tr', { id, class: 'replicas-row', 'data-testid': 'replica-panel', 'data-ref': v.ref },
    cell);
  row.hidden = true;
  const toggle = el('button', { type: 'button', class: 'button secondary small',
    'data-testid': 'replicas-button', 'aria-expanded': 'false', 'aria-controls': id,
    'aria-label': `Replicas of ${v.ref}` }, 'Replicas');
  const show = (shown) => {
    row.hidden = !shown;
    toggle.setAttribute('aria-expanded', String(shown));
    if (!shown) {
      open.delete(v.ref);
      return;
    }
    open.add(v.ref);
    loadPanel(cell, id, `/admin/models/${model.name}/versions/${v.version}/scaling`, v.ref);
  };
  toggle.addEventListener('click', () => show(row.hidden));
  if (open.has(v.ref)) show(true);
  return { toggle, row };
}

export function forgetReplicas() {
  open.clear();
}

async function loadPanel(cell, id, path, ref) {
  cell.replaceChildren(el('p', { class: 'muted' }, `Reading the replica settings of ${ref}…`));
  const settings = await run(() => api('GET', path));
  if (settings === undefined) {
    cell.replaceChildren(el('p', { class: 'muted' }, 'The replica settings could not be read.'));
    return;
  }
  const panel = buildPanel(id, path, ref);
  cell.replaceChildren(panel.root);
  panel.fill(settings);
}

/** The panel's parts, and `fill(settings)` to show an answer of the scaling resource in them. */
function buildPanel(id, path, ref) {
  const inputs = {};
  const fields = FIELDS.map((f) => {
    inputs[f.name] = el('input', { id: `${id}-${f.name}`, name: f.name, autocomplete: 'off',
      inputmode: f.kind === 'whole' ? 'numeric' : 'decimal', 'aria-describedby': `${id}-${f.name}-hint`,
      'data-testid': `replicas-${f.name}-input` });
    return el('div', { class: 'field' },
      el('label', { for: `${id}-${f.name}` }, f.label),
      inputs[f.name],
      el('p', { id: `${id}-${f.name}-hint`, class: 'hint' }, f.hint));
  });
  inputs.device = el('select', { id: `${id}-device`, name: 'device', 'aria-describedby': `${id}-device-hint`,
    'data-testid': 'replicas-device-select' });
  fields.push(el('div', { class: 'field' },
    el('label', { for: `${id}-device` }, 'Device'),
    inputs.device,
    el('p', { id: `${id}-device-hint`, class: 'hint' }, 'Where its replicas may be placed.')));

  const applied = el('p', { class: 'replicas-applied', 'data-testid': 'replica-settings-applied' });
  const error = el('p', { id: `${id}-error`, class: 'form-error', 'data-testid': 'replica-settings-error' });
  error.hidden = true;
  const save = el('button', { type: 'submit', class: 'button small', 'data-testid': 'save-replicas-button' },
    'Save');
  const clear = el('button', { type: 'button', class: 'button secondary small',
    'data-testid': 'clear-replicas-button' }, "Use the node's defaults");
  const form = el('form', { class: 'replicas-form', 'data-testid': 'replica-settings-form', novalidate: '',
    'aria-labelledby': `${id}-title` },
  el('fieldset', {},
    el('legend', {}, 'Its own settings'),
    el('p', { class: 'hint' }, "A field left empty takes the node's default, shown greyed in it."),
    el('div', { class: 'replicas-fields' }, ...fields)),
  error,
  el('div', { class: 'form-actions' }, save, clear));
  const events = el('tbody', {});
  const noEvents = el('p', { class: 'empty', 'data-testid': 'version-scaling-events-empty' },
    'No scaling decision yet: a version gets its first replica with its first job.');
  const root = el('section', { class: 'replicas', 'aria-labelledby': `${id}-title` },
    el('h3', { id: `${id}-title` }, 'Replicas of ', el('code', {}, ref)),
    applied,
    form,
    el('h4', { id: `${id}-events-title` }, 'Recent scaling decisions'),
    el('div', { class: 'table-wrap' },
      el('table', { class: 'replica-events', 'data-testid': 'version-scaling-events',
        'aria-labelledby': `${id}-events-title` },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'When'),
        el('th', { scope: 'col' }, 'Decision'), el('th', { scope: 'col' }, 'Node'),
        el('th', { scope: 'col' }, 'Why'))),
      events)),
    noEvents);

  const fill = (settings) => {
    applied.textContent = summary(settings);
    for (const f of FIELDS) {
      const own = settings.own[f.name];
      const mine = own !== null && own !== undefined;
      inputs[f.name].value = mine ? String(own) : '';
      // where the version has a value of its own, the node's default is not in the answer
      inputs[f.name].placeholder = mine ? 'node default' : String(settings[f.name]);
    }
    const ownDevice = settings.own.device;
    const byDefault = ownDevice ? "node's default" : `node's default (${DEVICES[settings.device]})`;
    inputs.device.replaceChildren(el('option', { value: '' }, byDefault),
      ...Object.entries(DEVICES).map(([value, text]) => el('option', { value }, text)));
    inputs.device.value = ownDevice || '';
    events.replaceChildren(...settings.events.map(eventRow));
    noEvents.hidden = settings.events.length > 0;
  };

  const reset = () => {
    for (const input of Object.values(inputs)) unmark(input);
    error.hidden = true;
  };

  const put = async (body, button, message) => {
    reset();
    const answer = await run(async () => {
      try {
        return await api('PUT', path, body);
      } catch (e) {
        error.textContent = e.detail || e.message;
        error.hidden = false;
        const input = e.field && inputs[e.field];
        if (input) mark(input, error.id);
        throw e;
      }
    }, button);
    if (answer === undefined) return;
    fill(answer);
    say(message);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    reset();
    const body = read(inputs, error);
    if (body) put(body, save, `Saved the replica settings of ${ref}.`);
  });
  clear.addEventListener('click', () => put({}, clear, `${ref} takes the node's replica settings.`));
  return { root, fill };
}

/** What applies now, in words. */
function summary(s) {
  const replicas = s.minReplicas === s.maxReplicas
    ? `${s.minReplicas}`
    : `${s.minReplicas} to ${s.maxReplicas}`;
  return `Now: ${replicas} ${s.maxReplicas === 1 ? 'replica' : 'replicas'} on ${DEVICES[s.device]}; ` +
    `one more while a new job would wait over ${seconds(s.targetWaitSeconds)}, and new jobs refused ` +
    `past ${seconds(s.maxWaitSeconds)}.`;
}

/** The settings typed in the form, or null after saying which one is not a number. */
function read(inputs, error) {
  const body = {};
  for (const f of FIELDS) {
    const text = inputs[f.name].value.trim();
    if (!text) {
      body[f.name] = null;
      continue;
    }
    const pattern = f.kind === 'whole' ? /^\d+$/ : /^\d+(\.\d+)?$/;
    if (!pattern.test(text)) {
      const what = f.kind === 'whole' ? 'a whole number' : 'a number of seconds like 2.5';
      const message = `${f.label} must be ${what}, or empty for the node's default.`;
      error.textContent = message;
      error.hidden = false;
      mark(inputs[f.name], error.id);
      say(message, 'error');
      return null;
    }
    body[f.name] = Number(text);
  }
  body.device = inputs.device.value || null;
  return body;
}

/** Marks an input invalid, tied to the error that says why, and focuses it. */
function mark(input, errorId) {
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-errormessage', errorId);
  input.focus();
}

function unmark(input) {
  input.removeAttribute('aria-invalid');
  input.removeAttribute('aria-errormessage');
}

function eventRow(e) {
  return el(
    'tr',
    { 'data-testid': 'version-scaling-event', 'data-direction': e.direction },
    el('td', {}, when(e.at)),
    el('td', { class: 'change' }, directionBadge(e.direction), ` ${change(e)}`),
    el('td', {}, el('code', { class: 'id' }, e.node)),
    el('td', { class: 'load-detail' }, e.reason),
  );
}
