// The console's page helpers: building elements (server text always as text, never as HTML),
// the message live region, and how dates and money are shown.

const NOTICE_MS = 8000;
const MICROS_PER_UNIT = 1000000n;

let noticeTimer = null;

export const $ = (selector) => document.querySelector(selector);

/** An element with attributes (null ones left out) and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function when(iso) {
  if (!iso) return el('span', { class: 'muted' }, 'never');
  return el('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

export function badge(text, tone) {
  return el('span', { class: `badge ${tone}` }, text);
}

export function statusBadge(status) {
  const tones = { active: 'good', staged: 'warn', suspended: 'warn', deleted: 'bad', retired: 'bad' };
  const tone = tones[status] || 'warn';
  return badge(status, tone);
}

/** The trimmed value of a required input, or '' after saying what is missing. */
export function required(input, message) {
  const value = input.value.trim();
  if (!value) {
    say(message, 'error');
    input.focus();
  }
  return value;
}

/**
 * Shows a message in the live region; errors stay until the next one. `what` is a string or
 * an error with a title and a detail.
 */
export function say(what, kind = 'ok') {
  const box = $('#message');
  clearTimeout(noticeTimer);
  box.replaceChildren();
  box.setAttribute('aria-live', kind === 'error' ? 'assertive' : 'polite');
  const body = el('div', { class: `message-body ${kind}`, 'data-kind': kind });
  if (typeof what === 'string') {
    body.append(el('span', {}, what));
  } else {
    body.append(el('strong', {}, what.title || 'Something went wrong'));
    if (what.detail) body.append(' ', el('span', {}, what.detail));
  }
  const close = el('button', { type: 'button', class: 'message-close', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => box.replaceChildren());
  body.append(close);
  box.append(body);
  if (kind !== 'error') noticeTimer = setTimeout(() => box.replaceChildren(), NOTICE_MS);
}

// ---- money: the API counts micros, millionths of the billing currency ----

/**
 * Micros as currency units: 2 to 6 decimals (as many as it takes, no rounding), thousands
 * grouped, e.g. 330832 → "0.330832", 2000000000 → "2,000.00".
 */
export function units(micros) {
  if (micros === null || micros === undefined) return '—';
  const value = BigInt(Math.trunc(Number(micros)));
  const abs = value < 0n ? -value : value;
  const whole = (abs / MICROS_PER_UNIT).toLocaleString('en-US');
  let fraction = (abs % MICROS_PER_UNIT).toString().padStart(6, '0').replace(/0+$/, '');
  fraction = fraction.padEnd(2, '0');
  return `${value < 0n ? '-' : ''}${whole}.${fraction}`;
}

/** An amount in units, with its exact micros in a tooltip. */
export function money(micros) {
  return el('span', { class: 'money', title: `${micros} micros` }, units(micros));
}

/** Currency units typed by a person ("12.5") as micros, or NaN when it is not such a number. */
export function parseUnits(text) {
  const match = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text.trim().replace(/,/g, ''));
  if (!match) return NaN;
  const fraction = (match[2] || '').padEnd(6, '0');
  return Number(BigInt(match[1]) * MICROS_PER_UNIT + BigInt(fraction));
}

/** A whole number grouped in thousands, e.g. 40000000 → "40,000,000". */
export function count(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

/** The current UTC month, YYYY-MM. */
export function utcMonth() {
  return new Date().toISOString().slice(0, 7);
}
