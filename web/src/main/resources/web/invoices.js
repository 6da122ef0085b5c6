// The invoices view: every tenant's bill for a UTC month, a line per model version, and the
// month as CSV. Amounts come in micros and are shown in currency units.

import { api, download, run } from './api.js';
import { $, count, el, money, say, utcMonth } from './ui.js';

const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

/** Shows the view; loads the month typed, or the current one. */
export async function showInvoices() {
  const input = $('#invoice-month');
  if (!MONTH.test(input.value)) input.value = utcMonth();
  $('#invoices-title').focus();
  await loadInvoices();
}

/** The month typed, or null after saying what a month looks like. */
function month() {
  const input = $('#invoice-month');
  const value = input.value.trim();
  if (MONTH.test(value)) {
    input.removeAttribute('aria-invalid');
    return value;
  }
  input.setAttribute('aria-invalid', 'true');
  say('Enter a month as YYYY-MM, e.g. 2026-03.', 'error');
  input.focus();
  return null;
}

async function loadInvoices(button) {
  const m = month();
  if (!m) return;
  const answer = await run(() => api('GET', `/admin/invoices?month=${m}`), button);
  if (answer !== undefined) renderInvoices(answer);
}

function renderInvoices({ month: m, invoices }) {
  const list = $('#invoice-list');
  if (invoices.length === 0) {
    list.replaceChildren(
      el('p', { class: 'empty', 'data-testid': 'invoices-empty' }, `No usage in ${m}: no invoices.`),
    );
    return;
  }
  const grand = invoices.reduce((sum, i) => sum + i.totalMicros, 0);
  list.replaceChildren(
    el(
      'p',
      { class: 'invoice-summary', 'data-testid': 'invoices-total' },
      `${invoices.length} ${invoices.length === 1 ? 'invoice' : 'invoices'} for ${m}, in all `,
      money(grand),
      ' (currency units)',
    ),
    ...invoices.map(invoiceTable),
  );
}

function invoiceTable(invoice) {
  const captionId = `invoice-${invoice.tenantId}`;
  const rows = invoice.lines.map((line) =>
    el(
      'tr',
      { 'data-testid': 'invoice-line' },
      el('th', { scope: 'row' }, el('code', {}, line.model)),
      el('td', { class: 'number' }, count(line.jobs)),
      el('td', { class: 'number' }, Number(line.megapixels).toFixed(6)),
      el('td', { class: 'number' }, money(line.amountMicros)),
    ),
  );
  return el(
    'table',
    { class: 'invoice', 'data-testid': 'invoice', 'data-tenant-id': invoice.tenantId,
      'aria-labelledby': captionId },
    el('caption', { id: captionId }, invoice.tenantName, ' ',
      el('code', { class: 'id' }, invoice.tenantId)),
    el(
      'thead',
      {},
      el('tr', {}, el('th', { scope: 'col' }, 'Model version'), el('th', { scope: 'col', class: 'number' }, 'Jobs'),
        el('th', { scope: 'col', class: 'number' }, 'Megapixels'),
        el('th', { scope: 'col', class: 'number' }, 'Amount (units)')),
    ),
    el('tbody', {}, ...rows),
    el(
      'tfoot',
      {},
      el('tr', {}, el('th', { scope: 'row', colspan: '3' }, 'Total'),
        el('td', { class: 'number', 'data-testid': 'invoice-total' }, money(invoice.totalMicros))),
    ),
  );
}

async function downloadCsv(event) {
  const m = month();
  if (!m) return;
  const fallback = `retina-invoices-${m}.csv`;
  const saved = await run(() => download(`/admin/invoices/${m}.csv`, fallback), event.currentTarget);
  if (saved !== undefined) say(`Downloaded ${saved}.`);
}

export function forgetInvoices() {
  $('#invoice-list').replaceChildren();
}

export function initInvoices() {
  $('#invoices-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadInvoices($('[data-testid="load-invoices-button"]'));
  });
  $('#download-csv').addEventListener('click', downloadCsv);
}
