// The web chat as end users meet it: the seed scenario with a visitor and an agent side by side,
// the chat embedded with one <script> tag in a page of another origin, and a chat that survives a
// server restart without losing or repeating a line.
import http from 'node:http';
import { test, expect, Api, botPath, unique, openConsole, watchErrors, realErrors } from './helpers.mjs';
import { OwnServer, trackSockets, stopAll } from './servers.mjs';

test.afterAll(stopAll);

/** The chat's landmarks and controls, by role and accessible name. */
function chatUi(root) {
  const log = root.getByRole('log', { name: 'Conversation' });
  return {
    status: root.locator('.chat-status'),
    log,
    line: (text) => log.getByText(text, { exact: true }),
    mine: (text) => log.locator('.from-visitor').getByText(text, { exact: true }),
    input: root.getByRole('textbox', { name: 'Your message' }),
    send: root.getByRole('button', { name: 'Send' }),
    nameButton: root.locator('.chat-name'),
    nameInput: root.getByRole('textbox', { name: 'Your name' }),
    saveName: root.getByRole('button', { name: 'Save' }),
  };
}

async function say(chat, text) {
  await chat.input.fill(text);
  await chat.input.press('Enter');
}

test('the seed scenario: a visitor asks for a human, an agent answers from the console, the visitor cancels', async ({ page, browser, errors }) => {
  // The visitor has a browser of their own (their own storage); the agent uses `page`.
  const visitorContext = await browser.newContext({ viewport: { width: 400, height: 700 } });
  watchErrors(visitorContext, errors);
  const visitor = await visitorContext.newPage();
  const name = `Ada ${unique('web')}`;

  const ui = await openConsole(page);
  await visitor.goto('/chat/welcome-bot');
  const chat = chatUi(visitor);
  await expect(chat.status).toHaveText('Online');
  await expect(visitor).toHaveTitle('Chat with Welcome Bot');

  await chat.nameButton.click();
  await chat.nameInput.fill(name);
  await chat.saveName.click();
  await expect(chat.nameButton).toHaveText(name);

  await say(chat, 'HITL_START');
  await expect(chat.line('HITL_START')).toBeVisible();
  await expect(chat.line('Bot paused, a human will get in touch very soon.')).toBeVisible();
  const cancel = chat.log.getByRole('button', { name: 'Cancel request' });
  await expect(cancel).toBeVisible();

  // The console: the notification arrives live, the session is there, paused, on the web channel.
  const wants = `${name} wants to talk to a human`;
  await expect(ui.toasts.getByText(wants, { exact: true })).toBeVisible();
  await ui.row(new RegExp(name)).click();
  await expect(ui.heading).toHaveText(name);
  await expect(ui.pausedBadge).toBeVisible();
  await expect(ui.profile).toContainText('web');

  // The agent answers; the visitor sees it live, from a person.
  await ui.composer.fill('Hello, I am Grace. How can I help?');
  await ui.composer.press('Enter');
  const answer = chat.log.locator('.from-person').filter({ hasText: 'Hello, I am Grace. How can I help?' });
  await expect(answer).toBeVisible();
  await expect(answer.getByText('Person', { exact: true })).toBeVisible();
  await expect(chat.line('A person joined the conversation.')).toBeVisible();

  // The visitor cancels: the bot is back, and the console shows it running again.
  await cancel.click();
  await expect(chat.mine('Cancel request')).toBeVisible();
  await expect(chat.line('Human in the loop disabled. Bot resumed.')).toBeVisible();
  await expect(chat.line('The bot is back.')).toBeVisible();
  await expect(ui.pausedBadge).toBeHidden();
  await expect(ui.toggle).toHaveText('Take over');

  await say(chat, 'hi');
  await expect(chat.line('You said: hi')).toBeVisible();
  await expect(ui.messages.getByText('You said: hi', { exact: true })).toBeVisible();

  // A reload shows the same conversation, each line once.
  await visitor.reload();
  await expect(chat.status).toHaveText('Online');
  await expect(chat.line('You said: hi')).toHaveCount(1);
  await expect(chat.line('Hello, I am Grace. How can I help?')).toHaveCount(1);
  await expect(chat.nameButton).toHaveText(name);
  await visitorContext.close();
});

test('one <script> tag on a page of another origin gives a chat button that opens the chat', async ({ page, baseURL }) => {
  const html = `<!doctype html><html lang="en"><head><title>Shop</title></head><body>
    <h1>Our shop</h1><script src="${baseURL}/chat/welcome-bot/embed.js"></script></body></html>`;
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  try {
    const shop = `http://127.0.0.1:${site.address().port}/`;
    await page.goto(shop);
    const open = page.getByRole('button', { name: 'Open chat' });
    await expect(open).toHaveAttribute('aria-expanded', 'false');
    await expect(page.locator('iframe')).toHaveCount(0);
    await open.click();

    const close = page.getByRole('button', { name: 'Close chat' }).first();
    await expect(page.locator('iframe[title="Chat"]')).toBeVisible();
    const frame = page.frameLocator('iframe[title="Chat"]');
    const chat = chatUi(frame);
    await expect(chat.status).toHaveText('Online');
    const words = unique('embedded');
    await say(chat, words);
    await expect(chat.line(`You said: ${words}`)).toBeVisible();

    // The frame's own close button hands control back to the page.
    await frame.getByRole('button', { name: 'Close chat' }).click();
    await expect(page.locator('iframe[title="Chat"]')).toBeHidden();
    await expect(page.getByRole('button', { name: 'Open chat' })).toBeFocused();
    // Opening again shows the same conversation.
    await page.getByRole('button', { name: 'Open chat' }).click();
    await expect(chat.line(`You said: ${words}`)).toHaveCount(1);
    await expect(close).toHaveAttribute('aria-expanded', 'true');
  } finally {
    await new Promise((resolve) => site.close(resolve));
  }
});

test('after a server restart the chat reconnects: what the agent wrote meanwhile and what the visitor typed offline each show once', async ({ page, playwright, errors }) => {
  test.setTimeout(60_000);
  const request = await playwright.request.newContext();
  await OwnServer.run(test.info(), 'chat-restart', async (server) => {
    const origin = server.origin;
    const api = new Api(request, origin);
    const sockets = trackSockets(page);
    await page.goto(`${origin}/chat/welcome-bot`);
    const chat = chatUi(page);
    await expect(chat.status).toHaveText('Online');
    await say(chat, 'before the stop');
    await expect(chat.line('You said: before the stop')).toBeVisible();
    const sessions = await api.call('GET', '/api/v1/bots/welcome-bot/mod/hitl/sessions');
    const sessionId = sessions.sessions[0].id;
    expect(realErrors(errors)).toEqual([]);
    const downFrom = errors.length;

    const before = sockets.length;
    await server.stop();
    await expect(chat.status).toHaveText('Reconnecting…');
    await say(chat, 'typed while offline');
    await expect(chat.log.getByText('Sending…')).toBeVisible();
    // Three refused attempts: the next waits 4 s, time for the agent to write meanwhile.
    await expect.poll(() => sockets.slice(before).filter((s) => s.closed).length, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);
    await server.start();
    await api.reply(sessionId, 'written while you were away');

    await expect(chat.status).toHaveText('Online', { timeout: 20_000 });
    await expect(chat.line('written while you were away')).toHaveCount(1);
    await expect(chat.line('typed while offline')).toHaveCount(1);
    await expect(chat.log.getByText('Sending…')).toHaveCount(0);
    await expect(chat.line('before the stop')).toHaveCount(1);
    await expect(chat.line('You said: before the stop')).toHaveCount(1);
    // The agent took over, so the bot keeps quiet; the message is stored once.
    const texts = (await api.messages(sessionId)).map((m) => m.text);
    expect(texts.filter((t) => t === 'typed while offline')).toHaveLength(1);
    // The browser reported the refused connections while the server was down, nothing else.
    for (const e of errors.splice(downFrom)) {
      expect(e).toMatch(/WebSocket connection to .*\/chat\/socket' failed|Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)/);
    }
  });
  await request.dispose();
});

test('what a bot sends renders in the chat: images, link buttons and quick replies that answer with their payload', async ({ page, request, baseURL }) => {
  const api = new Api(request);
  await page.goto('/chat/welcome-bot');
  const chat = chatUi(page);
  await expect(chat.status).toHaveText('Online');
  await say(chat, 'hello');
  await expect(chat.line('You said: hello')).toBeVisible();
  const { visitorId } = JSON.parse(await page.evaluate(() => localStorage.getItem('hitl.chat.welcome-bot')));
  const outbound = `${botPath}/mod/hitl/channel/web/user/${visitorId}/messages`;

  await api.call('POST', outbound, { type: 'image', url: `${baseURL}/favicon.svg`, title: 'Our logo' });
  const image = chat.log.getByRole('img', { name: 'Our logo' });
  await expect(image).toBeVisible();
  expect(await image.evaluate((img) => img.complete && img.naturalWidth > 0)).toBe(true);

  await api.call('POST', outbound, {
    type: 'buttons', text: 'Read more?',
    buttons: [{ title: 'Our site', url: 'https://example.com/' }, { title: 'Talk to a human', payload: 'HITL_START' }],
  });
  await expect(chat.log.getByRole('link', { name: 'Our site' })).toHaveAttribute('href', 'https://example.com/');

  await api.call('POST', outbound, {
    type: 'quick_replies', text: 'Tea or coffee?',
    quickReplies: [{ title: 'Tea', payload: 'PICK_TEA' }, { title: 'Coffee', payload: 'PICK_COFFEE' }],
  });
  await chat.log.getByRole('button', { name: 'Tea' }).click();
  await expect(chat.mine('Tea')).toBeVisible();
  // Quick replies are offered only on the newest line: once answered they are gone.
  await expect(chat.log.getByRole('button', { name: 'Coffee' })).toHaveCount(0);
  const sessions = await api.call('GET', `${botPath}/mod/hitl/sessions?searchText=${visitorId}`);
  const session = sessions.sessions.find((s) => s.userId === visitorId);
  const last = (await api.messages(session.id)).filter((m) => m.source === 'user').at(-1);
  expect(last.payload).toEqual({ type: 'quick_reply', text: 'Tea', payload: 'PICK_TEA' });

  // Nothing a bot sends runs as HTML in the visitor's page.
  await api.call('POST', outbound, { type: 'text', text: '<img src=x onerror="window.__owned=1"> <b>bold?</b>' });
  await expect(chat.line('<img src=x onerror="window.__owned=1"> <b>bold?</b>')).toBeVisible();
  expect(await page.evaluate(() => window.__owned)).toBeUndefined();
});

test('visitors waiting for a person see their place in line, and it moves up live when the one ahead is claimed', async ({ browser, request, errors }) => {
  const api = new Api(request);
  const people = [];
  try {
    for (const first of ['Una', 'Vic', 'Wes']) {
      const context = await browser.newContext({ viewport: { width: 400, height: 700 } });
      watchErrors(context, errors);
      const page = await context.newPage();
      await page.goto('/chat/welcome-bot');
      const chat = chatUi(page);
      await expect(chat.status).toHaveText('Online');
      const name = `${first} ${unique('line')}`;
      await chat.nameButton.click();
      await chat.nameInput.fill(name);
      await chat.saveName.click();
      await expect(chat.nameButton).toHaveText(name);
      await say(chat, 'HITL_START');
      const queue = page.getByRole('status').filter({ hasText: /in line/ });
      await expect(queue).toHaveText(/^You are #\d+ in line\./);
      const found = await api.call('GET', `${botPath}/mod/hitl/sessions?searchText=${encodeURIComponent(name)}`);
      const session = found.sessions[0];
      // The chat says what the console and the API say.
      await expect(queue).toHaveText(`You are #${session.handoff.position} in line. A person will be with you soon.`);
      people.push({ context, queue, session });
    }
    const [una, vic, wes] = people;
    expect(vic.session.handoff.position).toBe(una.session.handoff.position + 1);
    expect(wes.session.handoff.position).toBe(una.session.handoff.position + 2);

    // An agent takes Una's conversation: the two behind her move up, and she is no longer in line.
    const admin = await api.call('GET', '/api/v1/users');
    const adminId = admin.users.find((u) => u.viewer.role === 'admin').viewer.id;
    await api.call('POST', `${botPath}/mod/hitl/sessions/${una.session.id}/assign`, { userId: adminId });
    const wesNow = wes.session.handoff.position - 1;
    await expect(wes.queue).toHaveText(`You are #${wesNow} in line. A person will be with you soon.`, { timeout: 2_000 });
    await expect(vic.queue).toHaveText(`You are #${vic.session.handoff.position - 1} in line. A person will be with you soon.`);
    await expect(una.queue).toHaveCount(0);
    expect((await api.session(wes.session.id)).handoff.position).toBe(wesNow);
  } finally {
    for (const { context } of people) await context.close();
  }
});
