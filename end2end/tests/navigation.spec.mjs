// Leaving the console and losing the right to it: the console's live socket ends when the agent
// goes to another page, and closes when their rights go, taking them to the sign-in page or
// saying why.
import { test, expect, Api, unique, openConsole, consoleUi, signInWithForm, watchErrors, realErrors } from './helpers.mjs';

const isEvents = (ws) => ws.url().includes('/mod/hitl/events');

test('going from the console to History closes its socket; events meanwhile raise no page error, and the console is live again on return', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('nav');
  const { sessionId } = await api.converse(user, 'before leaving', `Nav ${user}`);
  const sockets = [];
  page.on('websocket', (ws) => { if (isEvents(ws)) sockets.push(ws); });
  const ui = await openConsole(page, sessionId);
  expect(sockets).toHaveLength(1);
  const first = sockets[0];

  const closed = first.isClosed() ? Promise.resolve() : first.waitForEvent('close');
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'History' }).click();
  await expect(page).toHaveURL(/\/history$/);
  await closed;

  // Changes while the agent is away: had the socket stayed open, they would reach the page that
  // was left and its disposed state (a page error).
  await api.converse(user, 'while away');
  await api.pause(sessionId, 'checking');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

  await page.goBack();
  await expect(page).toHaveURL(/\/modules\/hitl/);
  await expect(ui.connection).toHaveText('Live');
  await expect(ui.messages.getByText('while away', { exact: true })).toBeVisible();
  expect(sockets.filter((ws) => !ws.isClosed()), 'one open socket, the new one').toHaveLength(1);
  await api.converse(user, 'after coming back');
  await expect(ui.messages.getByText('after coming back', { exact: true })).toBeVisible();
});

/** A new agent of welcome-bot, signed in in a browser context of its own, on the console. */
async function agentOnConsole(browser, api, errors) {
  const email = `${unique('rights')}@e2e.test`;
  const password = 'rights-password-1';
  const { user: { viewer: user } } = await api.call('POST', '/api/v1/users', {
    email, name: 'Rights Test', role: 'agent', bots: ['welcome-bot'], password,
  });
  const context = await browser.newContext();
  watchErrors(context, errors);
  const page = await context.newPage();
  await page.goto('/modules/hitl');
  await signInWithForm(page, { email, password });
  const ui = consoleUi(page);
  await expect(ui.connection).toHaveText('Live');
  // The console's first reads are done: a right taken while they are on their way would fail
  // them (403), which is right but not what these tests look at.
  await page.waitForLoadState('networkidle');
  return { user, context, page, ui };
}

test('an agent who loses the bot sees why their console stopped', async ({ browser, request, errors }) => {
  const api = new Api(request);
  const { user, context, page, ui } = await agentOnConsole(browser, api, errors);
  await api.call('PATCH', `/api/v1/users/${user.id}`, { bots: [] });
  await expect(ui.connection).toHaveText('Stopped: you no longer work on the bot welcome-bot');
  await expect(page).toHaveURL(/\/modules\/hitl/);
  await context.close();
});

test('a deactivated agent is taken to the sign-in page, which leads back to the console', async ({ browser, request, errors }) => {
  const api = new Api(request);
  const { user, context, page } = await agentOnConsole(browser, api, errors);
  // The console's data requests of a signed-out browser answer 401; that is expected here.
  errors.ignore.push(/401/);
  await api.call('PATCH', `/api/v1/users/${user.id}`, { active: false });
  await page.waitForURL(/\/login\?/);
  const url = new URL(page.url());
  expect(url.searchParams.get('next')).toBe('/modules/hitl');
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  expect(realErrors(errors)).toEqual([]);
  await context.close();
});
