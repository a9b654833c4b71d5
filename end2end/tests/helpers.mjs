// Shared helpers for the console's end-to-end tests: a `test` whose pages must log no errors, a
// small REST client for the API the tests drive the server with, and the console's landmarks.
import { test as base, expect } from '@playwright/test';

export { expect };

export const token = 'e2e-token';
/** The first admin of every server the tests start. */
export const admin = { email: 'admin@e2e.test', password: 'e2e-admin-password' };
export const botPath = '/api/v1/bots/welcome-bot';

/** A user id (or name part) no other test uses: the tests share one server and database. */
export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Collects uncaught exceptions (`pageerror`) and console errors of every page of `context` into
 * `errors`. Entries matching one of `errors.ignore` (regexps) are dropped when asserted.
 */
export function watchErrors(context, errors) {
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(`pageerror on ${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error on ${page.url()}: ${m.text()}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
}

export function realErrors(errors) {
  return errors.filter((e) => !(errors.ignore || []).some((re) => re.test(e)));
}

/**
 * `test` with an automatic `errors` fixture: every page of the default context is watched and the
 * test fails when any of them logged an error. Tests opening more contexts call
 * `watchErrors(context, errors)` on them.
 */
export const test = base.extend({
  // The console is for signed-in people: the browser context and the request fixture start
  // signed in as the admin (tests of the login itself use fresh contexts).
  signedIn: [
    async ({ context, request, baseURL }, use) => {
      for (const client of [context.request, request]) {
        const response = await client.post(`${baseURL}/login`, {
          form: { email: admin.email, password: admin.password, next: '/modules/hitl' },
          maxRedirects: 0,
        });
        expect(response.status(), 'signing in answers with a redirect').toBe(303);
        expect(response.headers().location).toBe('/modules/hitl');
      }
      await use(true);
    },
    { auto: true },
  ],
  errors: [
    async ({ context }, use) => {
      const errors = [];
      errors.ignore = [];
      watchErrors(context, errors);
      await use(errors);
      expect(realErrors(errors), 'page errors and console errors').toEqual([]);
    },
    { auto: true },
  ],
});

/** The REST API, as a channel or a tool would use it (bearer token). */
export class Api {
  constructor(request, origin = '') {
    this.request = request;
    this.origin = origin;
    this.headers = { Authorization: `Bearer ${token}` };
  }

  async call(method, path, data) {
    const response = await this.request.fetch(`${this.origin}${path}`, {
      method,
      headers: this.headers,
      data,
    });
    const body = await response.text();
    expect(response.ok(), `${method} ${path} answered ${response.status()}: ${body}`).toBeTruthy();
    return body ? JSON.parse(body) : null;
  }

  /** Sends a user's text through the Converse API; answers {responses, paused, sessionId, messageId}. */
  converse(userId, text, fullName) {
    const body = { type: 'text', text };
    if (fullName) body.user = { fullName };
    return this.call('POST', `${botPath}/converse/${encodeURIComponent(userId)}`, body);
  }

  session(id) {
    return this.call('GET', `${botPath}/mod/hitl/sessions/${id}`);
  }

  async messages(id, params = {}) {
    const query = new URLSearchParams(params).toString();
    const page = await this.call('GET', `${botPath}/mod/hitl/sessions/${id}/messages${query ? `?${query}` : ''}`);
    return page.messages;
  }

  pause(id, reason) {
    return this.call('POST', `${botPath}/mod/hitl/sessions/${id}/pause`, reason ? { reason } : undefined);
  }

  unpause(id) {
    return this.call('POST', `${botPath}/mod/hitl/sessions/${id}/unpause`);
  }

  reply(id, message) {
    return this.call('POST', `${botPath}/mod/hitl/sessions/${id}/message`, { message });
  }

  notify(body) {
    return this.call('POST', `${botPath}/notifications`, body);
  }

  notifications(params = {}) {
    const query = new URLSearchParams(params).toString();
    return this.call('GET', `/api/v1/notifications${query ? `?${query}` : ''}`);
  }

  readAllNotifications() {
    return this.call('POST', '/api/v1/notifications/read');
  }
}

/** The console's landmarks and controls, by role and accessible name. */
export function consoleUi(page) {
  const sessions = page.getByRole('navigation', { name: 'Sessions' });
  const conversation = page.getByRole('region', { name: 'Conversation' });
  return {
    connection: page.getByRole('status', { name: 'Connection' }),
    sessions,
    search: sessions.getByRole('searchbox', { name: 'Search sessions' }),
    rows: sessions.getByRole('link'),
    row: (name) => sessions.getByRole('link', { name }),
    filter: (label) => sessions.getByRole('button', { name: new RegExp(`^${label} \\d+$`) }),
    conversation,
    heading: conversation.getByRole('heading', { level: 2 }),
    pausedBadge: conversation.getByRole('status').filter({ hasText: /^Paused$/ }),
    toggle: conversation.getByRole('button', { name: /^(Take over|Return to bot)$/ }),
    messages: conversation.getByRole('list', { name: 'Messages' }),
    composer: conversation.getByRole('textbox', { name: 'Reply to the user' }),
    send: conversation.getByRole('button', { name: 'Send' }),
    loadOlder: conversation.getByRole('button', { name: 'Load older messages' }),
    profile: page.getByRole('complementary', { name: 'User profile' }),
    bell: page.getByRole('button', { name: /^Notifications(, \d+ unread)?$/ }),
    bellList: page.getByRole('region', { name: 'Notification list' }),
    toasts: page.getByRole('log', { name: 'New notifications' }),
  };
}

/** Opens the console (on a session when given) and waits until it is hydrated and live. */
export async function openConsole(page, sessionId, origin = '') {
  const query = sessionId === undefined ? '' : `?bot=welcome-bot&session=${sessionId}`;
  await page.goto(`${origin}/modules/hitl${query}`);
  // A server of the test's own does not know the shared server's session: sign in there.
  if (new URL(page.url()).pathname === '/login') await signInWithForm(page);
  const ui = consoleUi(page);
  await expect(ui.connection).toHaveText('Live');
  if (sessionId !== undefined) await expect(ui.heading).not.toBeEmpty();
  return ui;
}

/** Signs in on the login page the browser is at, as the admin; it returns where it was going. */
export async function signInWithForm(page, who = admin) {
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

/** Makes an agent of the welcome bot; answers { id, name, email, password }. */
export async function newAgent(api, first) {
  const email = `${unique(first.toLowerCase())}@e2e.test`;
  const name = `${first} ${email.split('@')[0].slice(-6)}`;
  const made = await api.call('POST', '/api/v1/users', { email, name, role: 'agent', bots: ['welcome-bot'] });
  return { id: made.user.viewer.id, name, email, password: made.temporaryPassword };
}

/** A browser of its own, signed in as `who` at `path`; answers { context, page }. */
export async function signedInAt(browser, errors, who, path) {
  const context = await browser.newContext();
  watchErrors(context, errors);
  const page = await context.newPage();
  await page.goto(path);
  await signInWithForm(page, who);
  return { context, page };
}

/** The count a filter button shows ("Paused 3" → 3). */
export async function filterCount(button) {
  const text = (await button.textContent()) || '';
  const match = text.match(/(\d+)\s*$/);
  expect(match, `a count in "${text}"`).not.toBeNull();
  return Number(match[1]);
}

/**
 * Creates a session with `calls` converse calls ("m0" … "m<calls-1>"; each stores the user's message
 * and the bot's echo). The first and the last call go alone, so "m0" is the oldest message and
 * "You said: m<calls-1>" the newest; the others go in concurrent batches. Answers the session id.
 */
export async function fillSession(api, userId, fullName, calls, batchSize = 25) {
  const { sessionId } = await api.converse(userId, 'm0', fullName);
  for (let start = 1; start < calls - 1; start += batchSize) {
    const end = Math.min(start + batchSize, calls - 1);
    const batch = [];
    for (let i = start; i < end; i++) batch.push(api.converse(userId, `m${i}`));
    for (const r of await Promise.all(batch)) expect(r.sessionId).toBe(sessionId);
  }
  await api.converse(userId, `m${calls - 1}`);
  return sessionId;
}

/**
 * Waits until the browser has rendered two more frames, so that scroll positions the app sets in
 * `requestAnimationFrame` after a change are applied (a rendering sync point, not a timer).
 */
export function afterFrames(page) {
  return page.evaluate(
    () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))),
  );
}
