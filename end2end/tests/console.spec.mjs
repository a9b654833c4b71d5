// The console at /modules/hitl: server-rendered list, hydration, a click that loads a conversation
// without a page load, and live updates over the events socket.
import { test, expect } from './helpers.mjs';

const token = 'e2e-token';
const bot = '/api/v1/bots/welcome-bot';

async function converse(request, userId, body) {
  const response = await request.post(`${bot}/converse/${userId}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: body,
  });
  expect(response.ok()).toBeTruthy();
  return response.json();
}

test('the console lists sessions, opens one without reloading and updates live', async ({ page, request }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  await converse(request, 'ada', { type: 'text', text: 'hello', user: { fullName: 'Ada Lovelace' } });
  const grace = await converse(request, 'grace', { type: 'text', text: 'HITL_START', user: { fullName: 'Grace Hopper' } });
  expect(grace.paused).toBe(true);

  // First paint comes from the server: the names are in the HTML before any script runs.
  const html = await (await request.get('/modules/hitl')).text();
  expect(html).toContain('Ada Lovelace');
  expect(html).toContain('Grace Hopper');

  await page.goto('/modules/hitl');
  const sessions = page.getByRole('navigation', { name: 'Sessions' });
  const graceRow = sessions.getByRole('link', { name: /Grace Hopper/ });
  await expect(graceRow).toBeVisible();
  await expect(graceRow.getByText('Paused', { exact: true })).toBeVisible();
  await expect(sessions.getByRole('link', { name: /Ada Lovelace/ })).toContainText('Bot: You said: hello');

  // "Live" only shows once the wasm has hydrated the page and its socket is connected.
  await expect(page.getByRole('status', { name: 'Connection' })).toHaveText('Live');

  // A marker on window survives client-side navigation but not a page load.
  await page.evaluate(() => { window.__sameDocument = true; });
  await graceRow.click();
  const conversation = page.getByRole('region', { name: 'Conversation' });
  await expect(conversation.getByText('Bot paused, a human will get in touch very soon.')).toBeVisible();
  await expect(conversation.getByText('Cancel request')).toBeVisible();
  await expect(conversation.getByText('Paused by bot: user asked for a human')).toBeVisible();
  expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
  await expect(page).toHaveURL(/session=/);

  // New data arrives without a reload: a message in the open conversation, and a new session.
  await converse(request, 'grace', { type: 'text', text: 'is anyone there?' });
  await expect(conversation.getByText('is anyone there?')).toBeVisible();
  await converse(request, 'linus', { type: 'text', text: 'hi', user: { fullName: 'Linus Torvalds' } });
  await expect(sessions.getByRole('link', { name: /Linus Torvalds/ })).toBeVisible();
  expect(await page.evaluate(() => window.__sameDocument)).toBe(true);

  await page.screenshot({ path: 'test-results/console.png', fullPage: true });
  expect(errors).toEqual([]);
});
