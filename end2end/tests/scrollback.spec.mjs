// Scroll-back: a long conversation opens on its newest messages; scrolling up and "Load older
// messages" bring the older pages until the very first message.
import { test, expect, Api, unique, openConsole } from './helpers.mjs';

const CALLS = 250; // each stores the user's message and the bot's echo: 500 messages
const BATCH = 25;

test('a session with 500 messages opens on the newest, and scrolling back loads older pages up to the first one', async ({ page, request }) => {
  test.setTimeout(60_000);
  const api = new Api(request);
  const user = unique('long');
  const name = `Lena ${user}`;
  // The first and the last message are sent alone so they are the oldest and the newest.
  const { sessionId } = await api.converse(user, 'm0', name);
  for (let start = 1; start < CALLS - 1; start += BATCH) {
    const end = Math.min(start + BATCH, CALLS - 1);
    const batch = [];
    for (let i = start; i < end; i++) batch.push(api.converse(user, `m${i}`));
    for (const r of await Promise.all(batch)) expect(r.sessionId).toBe(sessionId);
  }
  await api.converse(user, `m${CALLS - 1}`);
  const stored = await api.messages(sessionId, { limit: 200 });
  expect(stored.at(-1).text).toBe(`You said: m${CALLS - 1}`);

  const ui = await openConsole(page, sessionId);
  const items = ui.messages.getByRole('listitem');
  const first = ui.messages.getByText('m0', { exact: true });
  // The newest page, scrolled to its end.
  await expect(items).toHaveCount(50);
  await expect(ui.messages.getByText(`You said: m${CALLS - 1}`, { exact: true })).toBeInViewport();
  await expect(first).toHaveCount(0);
  await expect(ui.loadOlder).toBeVisible();

  // Scrolling up to the top loads the page before, and keeps what was on screen in place.
  const oldestShown = ui.messages.getByText(stored.at(-50).text, { exact: true });
  await ui.messages.hover();
  await page.mouse.wheel(0, -100_000);
  await expect(items).toHaveCount(100);
  await expect(oldestShown).toBeInViewport();
  await expect(ui.messages.getByText(stored.at(-100).text, { exact: true })).toHaveCount(1);

  // The button loads a page too.
  await ui.loadOlder.click();
  await expect(items).toHaveCount(150);

  // Keep scrolling up until the first message is there: every step adds a page.
  for (let loaded = 150; loaded < 500; loaded += 50) {
    await expect(async () => {
      await ui.messages.hover();
      await page.mouse.wheel(0, -100_000);
      await expect(items).toHaveCount(loaded + 50, { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
  }
  await expect(first).toHaveCount(1);
  // One more page is asked for (it comes back empty), then the button goes away.
  await expect(async () => {
    await ui.messages.hover();
    await page.mouse.wheel(0, -100_000);
    await expect(ui.loadOlder).toHaveCount(0, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await first.scrollIntoViewIfNeeded();
  await expect(first).toBeInViewport();
  await expect(items).toHaveCount(500);
  // Oldest first, nothing twice.
  await expect(items.first()).toContainText('m0');
  await expect(items.nth(1)).toContainText('You said: m0');
  const texts = await ui.messages.getByRole('listitem').allInnerTexts();
  expect(new Set(texts.map((t) => t.split('\n').filter((l) => /^(You said: )?m\d+$/.test(l)).join())).size).toBe(500);
});
