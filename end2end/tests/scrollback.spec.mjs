// Scroll-back: a long conversation opens on its newest messages; scrolling up and "Load older
// messages" bring the older pages until the very first message. Reading older messages is not
// disturbed by loading more or by new messages arriving (those are announced by a pill).
import { test, expect, Api, unique, openConsole, fillSession, afterFrames } from './helpers.mjs';

const PAGE = 50;

/** Scrolls the conversation all the way up with the mouse wheel, as an agent would. */
async function wheelToTop(page, ui) {
  await ui.messages.hover();
  await page.mouse.wheel(0, -100_000);
}

test('a session with 500 messages opens on the newest, and scrolling back loads older pages up to the first one', async ({ page, request }) => {
  test.setTimeout(60_000);
  const api = new Api(request);
  const user = unique('long');
  const sessionId = await fillSession(api, user, `Lena ${user}`, 250);
  const stored = await api.messages(sessionId, { limit: 200 });
  expect(stored.at(-1).text).toBe('You said: m249');

  const ui = await openConsole(page, sessionId);
  const items = ui.messages.getByRole('listitem');
  const first = ui.messages.getByText('m0', { exact: true });
  // The newest page, scrolled to its end.
  await expect(items).toHaveCount(PAGE);
  await expect(ui.messages.getByText('You said: m249', { exact: true })).toBeInViewport();
  await expect(ui.messages.getByText(stored.at(-PAGE).text, { exact: true })).toHaveCount(1);
  await expect(ui.messages.getByText(stored.at(-PAGE - 1).text, { exact: true })).toHaveCount(0);
  await expect(first).toHaveCount(0);
  await expect(ui.loadOlder).toBeVisible();

  // Scrolling to the top loads the page before.
  await wheelToTop(page, ui);
  await expect(items).toHaveCount(2 * PAGE);
  await expect(ui.messages.getByText(stored.at(-2 * PAGE).text, { exact: true })).toHaveCount(1);

  // So does the button.
  await ui.loadOlder.click();
  await expect(items).toHaveCount(3 * PAGE);

  // Keep scrolling up until the first message is there: every scroll to the top adds a page.
  for (let loaded = 3 * PAGE; loaded < 500; loaded += PAGE) {
    await expect(async () => {
      await wheelToTop(page, ui);
      await expect(items).toHaveCount(loaded + PAGE, { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
  }
  await expect(first).toHaveCount(1);
  // One more page is asked for (it is empty), then there is nothing older and the button goes.
  await expect(async () => {
    await wheelToTop(page, ui);
    await expect(ui.loadOlder).toHaveCount(0, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await wheelToTop(page, ui);
  await expect(first).toBeInViewport();
  await expect(items).toHaveCount(500);
  // Oldest first, and nothing twice.
  await expect(items.nth(0)).toContainText('m0');
  await expect(items.nth(1)).toContainText('You said: m0');
  const bodies = await ui.messages.getByRole('paragraph').allTextContents();
  expect(bodies).toHaveLength(500);
  expect(new Set(bodies).size).toBe(500);
});

test('loading older messages keeps the agent\'s place in the conversation', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('place');
  const sessionId = await fillSession(api, user, `Pia ${user}`, 60);
  const stored = await api.messages(sessionId);
  const ui = await openConsole(page, sessionId);
  const items = ui.messages.getByRole('listitem');
  await expect(items).toHaveCount(PAGE);

  // At the top, the oldest loaded message is on screen; the older page goes above it.
  const oldestLoaded = ui.messages.getByText(stored.at(0).text, { exact: true });
  const older = await api.messages(sessionId, { before: stored.at(0).id });
  expect(older).toHaveLength(PAGE);
  await wheelToTop(page, ui);
  await expect(items).toHaveCount(2 * PAGE);
  await expect(ui.messages.getByText(older.at(-1).text, { exact: true })).toHaveCount(1);
  await afterFrames(page);
  // What the agent was reading is still on screen, the newest message is not.
  await expect(oldestLoaded).toBeInViewport();
  await expect(ui.messages.getByText('You said: m59', { exact: true })).not.toBeInViewport();
});

test('a new message while the agent reads older ones shows the "new messages" pill and does not move the view', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('pill');
  const sessionId = await fillSession(api, user, `Pete ${user}`, 30);
  const stored = await api.messages(sessionId);
  const ui = await openConsole(page, sessionId);
  const newest = ui.messages.getByText('You said: m29', { exact: true });
  await expect(newest).toBeInViewport();

  // Scroll up to a message in the middle (far from the top, which would load older ones).
  const reading = ui.messages.getByText(stored.at(-25).text, { exact: true });
  // The list may render its rows again meanwhile (a row the action held is then gone): retried.
  await expect(async () => {
    await reading.scrollIntoViewIfNeeded({ timeout: 1_000 });
    await expect(reading).toBeInViewport({ timeout: 1_000 });
  }).toPass();
  await expect(newest).not.toBeInViewport();

  const pill = ui.conversation.getByRole('button', { name: /^\d+ new messages?$/ });
  await expect(pill).toHaveCount(0);
  await api.converse(user, 'fresh news');
  const fresh = ui.messages.getByText('You said: fresh news', { exact: true });
  await expect(fresh).toHaveCount(1);
  await afterFrames(page);
  // The agent keeps reading where they were; the pill says what arrived below.
  await expect(reading).toBeInViewport();
  await expect(fresh).not.toBeInViewport();
  await expect(pill).toHaveText('2 new messages');

  // The pill takes the agent to the newest message and goes away.
  await pill.click();
  await expect(ui.messages.getByText('You said: fresh news', { exact: true })).toBeInViewport();
  await expect(pill).toHaveCount(0);
});
