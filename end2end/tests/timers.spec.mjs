// Handing a conversation back to the bot. One nobody writes in goes back by itself: its owner's
// console counts down to it, Keep starts the count again, and the return shows live, without a
// reload (on a server of the test's own, whose welcome bot has a short inactivity return). Its
// owner gives one back by hand with a last message to the user.
import fs from 'node:fs';
import { test, expect, Api, unique, openConsole } from './helpers.mjs';
import { OwnServer, stopAll } from './servers.mjs';

test.afterAll(stopAll);

const welcome = fs.readFileSync(new URL('../../bots/welcome-bot.toml', import.meta.url), 'utf8');
const timed = welcome.replace(
  /^\[\[rules\]\]/m,
  `[handoffs]
inactivity_return_secs = 8
inactivity_warning_secs = 4
inactivity_warning_message = "Still there?"
return_message = "The assistant is back."

[[rules]]`,
);

/** Seconds a "Back to the bot in 00:07" timer shows. */
async function secondsLeft(timer) {
  const text = (await timer.textContent()) || '';
  const match = text.match(/^Back to the bot in (\d\d):(\d\d)$/);
  expect(match, `a countdown in "${text}"`).not.toBeNull();
  return Number(match[1]) * 60 + Number(match[2]);
}

test('the owner sees the countdown to the return to the bot, keeps the conversation, and sees it go back live', async ({ page, playwright }) => {
  test.setTimeout(60_000);
  const request = await playwright.request.newContext();
  await OwnServer.run(test.info(), 'timers', async (server) => {
    const api = new Api(request, server.origin);
    const user = unique('quiet');
    const { sessionId } = await api.converse(user, 'hello there', `Quinn ${user}`);
    const ui = await openConsole(page, sessionId, server.origin);
    const ownership = ui.conversation.getByRole('group', { name: 'Ownership' });
    const timer = ownership.getByRole('timer', { name: 'Back to the bot' });
    const keep = ownership.getByRole('button', { name: 'Keep' });

    await ui.toggle.click();
    await expect(ownership.getByRole('status')).toHaveText('Assigned to you');
    await expect(timer).toHaveText(/^Back to the bot in 00:0[5-8]$/);
    // It counts down every second; after the warning the owner keeps the conversation.
    const bubbles = (text) => ui.messages.getByText(text, { exact: true });
    await expect(bubbles('Still there?')).toHaveCount(1, { timeout: 10_000 });
    const beforeKeep = await secondsLeft(timer);
    expect(beforeKeep).toBeLessThanOrEqual(4);
    await keep.click();
    await expect.poll(() => secondsLeft(timer)).toBeGreaterThanOrEqual(6);

    // Nobody writes: the user is warned again, then it goes back to the bot, live.
    await expect(bubbles('The assistant is back.')).toHaveCount(1, { timeout: 15_000 });
    await expect(bubbles('Still there?')).toHaveCount(2);
    await expect(ui.messages.getByText(/^Resumed by hitl: nobody wrote for 8 s$/)).toHaveCount(1);
    await expect(ownership).toHaveCount(0);
    await expect(ui.toggle).toHaveText('Take over');

    // The bot answers the next message.
    await api.converse(user, 'anyone?');
    await expect(bubbles('You said: anyone?')).toHaveCount(1);
    // The console leaves before its server stops: a request of its own still in flight (the
    // team view's refresh after those events) would otherwise fail against the stopped server.
    await page.goto('about:blank');
  }, { 'welcome-bot': timed });
  await request.dispose();
});

test('the owner gives a conversation back to the bot with a last message, and the bot answers next', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('done');
  const { sessionId } = await api.converse(user, 'thanks, that was all', `Dora ${user}`);
  const ui = await openConsole(page, sessionId);
  const ownership = ui.conversation.getByRole('group', { name: 'Ownership' });
  await ui.toggle.click();
  await expect(ownership.getByRole('status')).toHaveText('Assigned to you');

  await ownership.getByRole('button', { name: 'Return to bot…' }).click();
  await ownership.getByRole('textbox', { name: 'Last message to the user' }).fill('Glad to help. Bye!');
  await ownership.getByRole('button', { name: 'Give back to the bot' }).click();
  await expect(ownership).toHaveCount(0);
  await expect(ui.toggle).toHaveText('Take over');
  const bubbles = (text) => ui.messages.getByText(text, { exact: true });
  await expect(bubbles('Glad to help. Bye!')).toHaveCount(1);
  const messages = await api.messages(sessionId);
  expect(messages.filter((m) => m.source === 'agent').map((m) => m.text)).toEqual(['Glad to help. Bye!']);

  await api.converse(user, 'one more thing');
  await expect(bubbles('You said: one more thing')).toHaveCount(1);
});
