// The admin API (/admin) as the console calls it: the admin token from this tab's
// sessionStorage as a bearer token, problem+json answers turned into ApiErrors.

import { say } from './ui.js';

const TOKEN_KEY = 'retina.adminToken';

let onUnauthorized = () => {};

/** An error answered by the API, from its problem+json body when there is one. */
export class ApiError extends Error {
  constructor(status, title, detail, type, field) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
    this.field = field;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** What to do when the API refuses the token (sign out). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function send(method, path, body, accept) {
  const headers = { Accept: accept };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const init = { method, headers, cache: 'no-store' };
  if (body instanceof Blob) {
    // a file (a model version's zip) goes as it is, typed as the browser knows it
    headers['Content-Type'] = body.type || 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'The node did not answer', String(e.message || e));
  }
  if (!response.ok) {
    const type = response.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await response.json().catch(() => null) : null;
    const p = data && typeof data === 'object' ? data : {};
    const title = p.title || `HTTP ${response.status}`;
    throw new ApiError(response.status, title, p.detail || response.statusText, p.type, p.field);
  }
  return response;
}

/** Calls the API and answers its JSON body, or null for a 204. A Blob body is sent as is. */
export async function api(method, path, body) {
  const response = await send(method, path, body, 'application/json, application/problem+json');
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json().catch(() => null) : null;
}

/**
 * Fetches a file with the token and saves it through the browser, since a plain link cannot
 * carry the Authorization header. Answers the file name it was saved as.
 */
export async function download(path, fallbackName) {
  const response = await send('GET', path, undefined, 'text/csv, application/problem+json');
  const disposition = response.headers.get('Content-Disposition') || '';
  const named = /filename="?([^";]+)"?/.exec(disposition);
  const filename = named ? named[1] : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // the click has handed the blob to the download; free it once that has started
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return filename;
}

/**
 * Runs an admin action with its button disabled, saying what went wrong; a 401 signs out.
 * Answers the action's result, or undefined when it failed.
 */
export async function run(action, button) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) onUnauthorized();
    say(e instanceof ApiError ? e : { title: 'Something went wrong', detail: String(e) }, 'error');
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
