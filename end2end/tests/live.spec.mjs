// Live updates of the console: what the Converse and REST APIs change shows in an open console
// without a reload, and what the console does is seen by the API and by other consoles.
import { test, expect, Api, unique, openConsole, watchErrors } from './helpers.mjs';

const named = (text) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

test('a Converse message shows live: its row goes to the top, its bubble in the open conversation, an unread badge on the other session', async ({ page, request }) => {
  const api = new Api(request);
  const olga = unique('live-olga');
  const otto = unique('live-otto');
  const olgaName = `Olga ${olga}`;
  const ottoName = `Otto ${otto}`;
  await api.converse(olga, 'first from olga', olgaName);
  const { sessionId } = await api.converse(otto, 'first from otto', ottoName);

  const ui = await openConsole(page, sessionId);
  await page.evaluate(() => { window.__sameDocument = true; });
  const olgaRow = ui.row(named(olgaName));
  const ottoRow = ui.row(named(ottoName));
  await expect(ui.rows.first()).toHaveAccessibleName(named(ottoName));
  await expect(olgaRow.getByLabel('1 unread', { exact: true })).toBeVisible();
  await expect(ui.heading).toHaveText(ottoName);

  // A message in the session that is not open: its row moves up and counts one more unread.
  await api.converse(olga, 'second from olga');
  await expect(ui.rows.first()).toHaveAccessibleName(named(olgaName));
  await expect(olgaRow).toContainText('Bot: You said: second from olga');
  await expect(olgaRow.getByLabel('2 unread', { exact: true })).toBeVisible();

  // A message in the open session: both bubbles appear, and its row is back on top.
  await api.converse(otto, 'hello from otto');
  await expect(ui.messages.getByText('hello from otto', { exact: true })).toBeVisible();
  await expect(ui.messages.getByText('You said: hello from otto', { exact: true })).toBeVisible();
  await expect(ui.rows.first()).toHaveAccessibleName(named(ottoName));
  await expect(ottoRow).toContainText('Bot: You said: hello from otto');
  // The open conversation is being read, so it has no unread badge; the other one keeps its badge.
  await expect(ottoRow.getByLabel(/unread/)).toHaveCount(0);
  await expect(olgaRow.getByLabel('2 unread', { exact: true })).toBeVisible();
  // Messages of other sessions never land in the open conversation.
  await expect(ui.messages.getByText('second from olga')).toHaveCount(0);
  expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
});

test('"Take over" in the console pauses the bot for the Converse API, and a pause through the REST API flips the console live', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('pause');
  const name = `Paula ${user}`;
  const first = await api.converse(user, 'hi', name);
  expect(first.paused).toBe(false);
  expect(first.responses).toEqual([{ type: 'text', text: 'You said: hi' }]);
  const id = first.sessionId;

  const ui = await openConsole(page, id);
  await expect(ui.toggle).toHaveText('Take over');
  await expect(ui.toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(ui.pausedBadge).toHaveCount(0);

  // Console → API.
  await ui.toggle.click();
  await expect(ui.toggle).toHaveText('Return to bot');
  await expect(ui.toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(ui.pausedBadge).toBeVisible();
  await expect(ui.conversation.getByText(/^by admin/)).toBeVisible();
  await expect(ui.row(named(name)).getByText('Paused', { exact: true })).toBeVisible();
  expect((await api.session(id)).isPaused).toBe(true);
  const during = await api.converse(user, 'anyone there?');
  expect(during.paused).toBe(true);
  expect(during.responses).toEqual([]);
  await expect(ui.messages.getByText('anyone there?', { exact: true })).toBeVisible();
  await expect(ui.messages.getByText('You said: anyone there?')).toHaveCount(0);

  // And back: the bot answers again.
  await ui.toggle.click();
  await expect(ui.toggle).toHaveText('Take over');
  await expect(ui.pausedBadge).toHaveCount(0);
  const resumed = await api.converse(user, 'back again');
  expect(resumed.paused).toBe(false);
  expect(resumed.responses).toEqual([{ type: 'text', text: 'You said: back again' }]);

  // API → console, without a reload.
  await page.evaluate(() => { window.__sameDocument = true; });
  await api.pause(id, 'checked by e2e');
  await expect(ui.toggle).toHaveText('Return to bot');
  await expect(ui.toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(ui.pausedBadge).toBeVisible();
  await expect(ui.conversation.getByText(/^by api: checked by e2e/)).toBeVisible();
  await api.unpause(id);
  await expect(ui.toggle).toHaveText('Take over');
  await expect(ui.toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(ui.pausedBadge).toHaveCount(0);
  expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
});

test('two consoles open at once stay in sync: a pause and a reply made in one show in the other', async ({ page, browser, request, errors }) => {
  const api = new Api(request);
  const user = unique('sync');
  const name = `Sam ${user}`;
  const { sessionId } = await api.converse(user, 'hello both', name);

  const otherContext = await browser.newContext();
  watchErrors(otherContext, errors);
  try {
    const other = await otherContext.newPage();
    const a = await openConsole(page, sessionId);
    const b = await openConsole(other, sessionId);
    await expect(a.toggle).toHaveText('Take over');
    await expect(b.toggle).toHaveText('Take over');

    // A pause in A shows in B.
    await a.toggle.click();
    await expect(a.toggle).toHaveText('Return to bot');
    await expect(b.toggle).toHaveText('Return to bot');
    await expect(b.toggle).toHaveAttribute('aria-pressed', 'true');
    await expect(b.pausedBadge).toBeVisible();

    // A reply typed in B shows in A, once in each.
    await b.composer.fill('synced reply from B');
    await b.composer.press('Enter');
    const replyIn = (ui) => ui.messages.getByRole('listitem').filter({ hasText: 'synced reply from B' });
    await expect(replyIn(a)).toHaveCount(1);
    await expect(b.messages.getByText('Sending…')).toHaveCount(0);
    await expect(replyIn(b)).toHaveCount(1);
    await expect(a.row(named(name))).toContainText('Agent: synced reply from B');

    // Handing back in B shows in A.
    await b.toggle.click();
    await expect(b.toggle).toHaveText('Take over');
    await expect(a.toggle).toHaveText('Take over');
    await expect(a.pausedBadge).toHaveCount(0);
  } finally {
    await otherContext.close();
  }
});

test('a reply typed in the composer reaches the session and pauses a running bot; Shift+Enter adds a line', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('compose');
  const name = `Carla ${user}`;
  const { sessionId } = await api.converse(user, 'I need help', name);
  const ui = await openConsole(page, sessionId);
  await expect(ui.toggle).toHaveText('Take over');

  // Shift+Enter makes a new line; nothing is sent.
  await ui.composer.click();
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  await expect(ui.composer).toHaveValue('first line\nsecond line');
  await expect(ui.messages.getByText('Sending…')).toHaveCount(0);
  expect((await api.messages(sessionId)).filter((m) => m.source === 'agent')).toEqual([]);

  // Enter sends: the field empties, the bubble shows once, the bot is paused by the reply.
  await page.keyboard.press('Enter');
  await expect(ui.composer).toHaveValue('');
  const bubble = ui.messages.getByRole('listitem').filter({ hasText: 'first line second line' });
  await expect(ui.messages.getByText('Sending…')).toHaveCount(0);
  await expect(bubble).toHaveCount(1);
  await expect(ui.toggle).toHaveText('Return to bot');
  await expect(ui.toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(ui.pausedBadge).toBeVisible();
  await expect(ui.messages.getByText('Paused by admin: agent replied', { exact: true })).toBeVisible();

  const stored = await api.messages(sessionId);
  const agent = stored.filter((m) => m.source === 'agent');
  expect(agent).toHaveLength(1);
  expect(agent[0]).toMatchObject({ text: 'first line\nsecond line', direction: 'out', author: 'admin' });
  const session = await api.session(sessionId);
  expect(session).toMatchObject({ isPaused: true, pausedBy: 'admin', pausedReason: 'agent replied' });

  // The user is now talking to the agent, not the bot.
  const answer = await api.converse(user, 'thanks');
  expect(answer).toMatchObject({ paused: true, responses: [] });

  // The Send button sends too, and Esc leaves the field.
  await ui.composer.fill('via the button');
  await ui.send.click();
  await expect(ui.messages.getByRole('listitem').filter({ hasText: 'via the button' })).toHaveCount(1);
  await ui.composer.focus();
  await ui.composer.press('Escape');
  await expect(ui.composer).not.toBeFocused();
});

test('the agent\'s reply shows once while it is sent: never a stored copy beside the "Sending…" one', async ({ page, request }) => {
  const api = new Api(request);
  const { sessionId } = await api.converse(unique('once'), 'hi', `Olli ${unique('once')}`);
  const ui = await openConsole(page, sessionId);
  // Counts, on every change of the list, how many items show the reply at the same time.
  await ui.messages.evaluate((list) => {
    window.__mostCopies = 0;
    window.__states = [];
    new MutationObserver(() => {
      const copies = [...list.children].filter((li) => li.textContent.includes('only once please'));
      window.__mostCopies = Math.max(window.__mostCopies, copies.length);
      window.__states.push(copies.map((li) => li.textContent.replace(/\s+/g, ' ').trim()).join(' | '));
    }).observe(list, { childList: true, subtree: true, characterData: true });
  });
  await ui.composer.fill('only once please');
  await ui.composer.press('Enter');
  await expect(ui.messages.getByText('Sending…')).toHaveCount(0);
  await expect(ui.messages.getByRole('listitem').filter({ hasText: 'only once please' })).toHaveCount(1);
  await expect(ui.messages.getByText('Paused by admin: agent replied', { exact: true })).toBeVisible();
  const states = await page.evaluate(() => [...new Set(window.__states)]);
  expect(await page.evaluate(() => window.__mostCopies), `what the list showed: ${JSON.stringify(states)}`).toBe(1);
});
