// Two agents in two browsers on one queue: who owns a conversation shows live in both, only the
// owner's composer writes, an admin takes over or transfers with a note, a reply written against
// a stale view is refused with what came in, then sent once, and a console cut off for a while
// shows what happened meanwhile once each, in order.
import { test, expect, Api, unique, consoleUi, newAgent, signedInAt, signInWithForm, watchErrors } from './helpers.mjs';
import { presenceGrace } from '../settings.mjs';

/** A browser of its own, signed in as `who`, on the console at `sessionId`. */
async function signedIn(browser, errors, who, sessionId) {
  const { context, page } = await signedInAt(browser, errors, who, `/modules/hitl?bot=welcome-bot&session=${sessionId}`);
  const ui = team(page);
  await expect(ui.connection).toHaveText('Live');
  await expect(ui.heading).not.toBeEmpty();
  return { context, page, ui };
}

/** A console in a browser context of the test's own (its sockets routed), signed in as `who`. */
async function consoleIn(context, who, sessionId) {
  const page = await context.newPage();
  await page.goto(`/modules/hitl?bot=welcome-bot&session=${sessionId}`);
  await signInWithForm(page, who);
  const ui = team(page);
  await expect(ui.connection).toHaveText('Live');
  return { page, ui };
}

/** The console's controls with the ownership line's. */
function team(page) {
  const ui = consoleUi(page);
  const conversation = ui.conversation;
  const ownership = conversation.getByRole('group', { name: 'Ownership' });
  return {
    ...ui,
    page,
    owner: ownership.getByRole('status'),
    claim: ownership.getByRole('button', { name: 'Claim' }),
    takeOver: ownership.getByRole('button', { name: /^Take over from / }),
    handOver: ownership.getByRole('button', { name: /^(Assign|Transfer)…$/ }),
    lock: conversation.getByRole('status').filter({ hasText: /is handling this conversation\.$/ }),
  };
}

async function queuedConversation(api, first) {
  const user = unique(first.toLowerCase());
  const name = `${first} ${user}`;
  const { sessionId } = await api.converse(user, 'I need a person', name);
  await api.pause(sessionId, 'asked for a person');
  return { sessionId, user, name };
}

// The browser logs the refusal the console expects and shows (a lost claim, a stale reply).
const refused = /Failed to load resource: the server responded with a status of 409 \(Conflict\)$/;

const systemLines = (messages, pattern) => messages.filter((m) => m.source === 'system' && pattern.test(m.text));

test('two agents claim one queued conversation at once: one gets it, the other sees who within a second and cannot write', async ({ browser, request, errors }) => {
  errors.ignore.push(refused);
  const api = new Api(request);
  const [ada, bea] = [await newAgent(api, 'Ada'), await newAgent(api, 'Bea')];
  const { sessionId } = await queuedConversation(api, 'Quinn');
  const a = await signedIn(browser, errors, ada, sessionId);
  const b = await signedIn(browser, errors, bea, sessionId);
  try {
    for (const { ui } of [a, b]) {
      await expect(ui.owner).toHaveText(/^Queued \d\d:\d\d \(#\d+\)$/);
      await expect(ui.claim).toBeEnabled();
    }
    // Both click within a few milliseconds: before either answer can hide the other's button
    // (a pointer click waits for a still button, and the winner's answer removes it).
    const buttons = await Promise.all([a.ui.claim.elementHandle(), b.ui.claim.elementHandle()]);
    await Promise.all(buttons.map((button) => button.evaluate((el) => el.click())));

    // The clicks only send the claims: wait until the server has answered one.
    await expect.poll(async () => (await api.session(sessionId)).handoff?.state).toBe('assigned');
    const session = await api.session(sessionId);
    const winner = session.handoff.assignee.id === ada.id ? a : b;
    const loser = winner === a ? b : a;
    const winnerName = winner === a ? ada.name : bea.name;
    await expect(winner.ui.owner).toHaveText('Assigned to you', { timeout: 1_000 });
    await expect(loser.ui.owner).toHaveText(`Assigned to ${winnerName}`, { timeout: 1_000 });
    await expect(loser.ui.lock).toHaveText(`${winnerName} is handling this conversation.`, { timeout: 1_000 });
    await expect(loser.ui.composer).toBeDisabled();
    await expect(loser.ui.send).toBeDisabled();
    await expect(winner.ui.composer).toBeEnabled();
    await expect(loser.ui.claim).toHaveCount(0);

    // One claim is on record, and the conversation says once who joined.
    const audit = await api.call('GET', '/api/v1/audit?action=handoff.claimed');
    expect(audit.entries.filter((e) => e.sessionId === sessionId)).toHaveLength(1);
    expect(systemLines(await api.messages(sessionId), /took the conversation$/)).toHaveLength(1);

    // The winner's reply reaches the user; the loser's row shows who has it.
    await winner.ui.composer.fill('Hello, I am here to help.');
    await winner.ui.composer.press('Enter');
    await expect(loser.ui.messages.getByText('Hello, I am here to help.', { exact: true })).toBeVisible();
    await expect(loser.ui.sessions.locator(`#session-${sessionId}`)).toContainText(winnerName);
    await expect(winner.ui.sessions.locator(`#session-${sessionId}`)).toContainText('Yours');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('an admin takes over and the owner sees it live; a transfer with a note reaches the new owner live and locks the old one', async ({ page, browser, request, errors }) => {
  const api = new Api(request);
  const [ada, bea] = [await newAgent(api, 'Ada'), await newAgent(api, 'Bea')];
  const { sessionId, name } = await queuedConversation(api, 'Rosa');
  const a = await signedIn(browser, errors, ada, sessionId);
  const b = await signedIn(browser, errors, bea, sessionId);
  try {
    await a.ui.claim.click();
    await expect(a.ui.owner).toHaveText('Assigned to you');

    // The admin (this test's own page) takes it over from Ada.
    await page.goto(`/modules/hitl?bot=welcome-bot&session=${sessionId}`);
    const boss = team(page);
    await expect(boss.connection).toHaveText('Live');
    await expect(boss.owner).toHaveText(`Assigned to ${ada.name}`);
    await expect(boss.composer).toBeDisabled();
    await boss.takeOver.click();
    await expect(boss.owner).toHaveText('Assigned to you');
    await expect(boss.composer).toBeEnabled();
    await expect(a.ui.owner).toHaveText('Assigned to admin', { timeout: 1_000 });
    await expect(a.ui.composer).toBeDisabled();
    await expect(a.ui.toasts).toContainText(`admin took over the conversation with ${name}`);
    const audit = await api.call('GET', '/api/v1/audit?action=handoff.taken_over');
    expect(audit.entries.filter((e) => e.sessionId === sessionId)).toHaveLength(1);
    // Bea was not told: it was not hers.
    await expect(b.ui.owner).toHaveText('Assigned to admin');
    await expect(b.ui.toasts).not.toContainText('took over');

    // The admin hands it to Bea with a note.
    await boss.handOver.click();
    const form = boss.conversation.getByRole('group', { name: 'Ownership' });
    await form.getByRole('combobox', { name: 'Agent' }).selectOption({ label: `${bea.name} (0 open)` });
    await form.getByRole('textbox', { name: 'Note for them' }).fill('billing question');
    await form.getByRole('button', { name: 'Transfer', exact: true }).click();
    await expect(b.ui.toasts).toContainText(`admin transferred the conversation with ${name} to you: billing question`, { timeout: 1_000 });
    await expect(b.ui.owner).toHaveText('Assigned to you');
    await expect(b.ui.composer).toBeEnabled();
    await expect(b.ui.messages.getByText(`admin transferred the conversation to ${bea.name}: billing question`)).toBeVisible();
    await expect(boss.owner).toHaveText(`Assigned to ${bea.name}`);
    await expect(boss.lock).toHaveText(`${bea.name} is handling this conversation.`);
    await expect(boss.composer).toBeDisabled();
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('a reply written while the user wrote again is refused with the new message; sent again after reading, it reaches the user once', async ({ browser, request, errors }) => {
  errors.ignore.push(refused);
  const api = new Api(request);
  const ada = await newAgent(api, 'Ada');
  const { sessionId, user } = await queuedConversation(api, 'Sam');
  const context = await browser.newContext();
  watchErrors(context, errors);
  // The console's live events pass through here; while `holding`, they wait, as on a slow link.
  let holding = false;
  const held = [];
  let toPage = null;
  await context.routeWebSocket(/\/mod\/hitl\/events/, (ws) => {
    const server = ws.connectToServer();
    toPage = ws;
    server.onMessage((message) => (holding ? held.push(message) : ws.send(message)));
    ws.onMessage((message) => server.send(message));
  });
  try {
    const { ui } = await consoleIn(context, ada, sessionId);
    await ui.claim.click();
    await expect(ui.owner).toHaveText('Assigned to you');

    holding = true;
    await api.converse(user, 'actually, it is about my invoice');
    await ui.composer.fill('Your order shipped today.');
    await ui.composer.press('Enter');
    await expect(ui.conversation.getByRole('alert')).toHaveText(
      'Not sent: new messages arrived while you wrote. Read them, then send again.',
    );
    await expect(ui.messages.getByText('actually, it is about my invoice', { exact: true })).toBeVisible();
    await expect(ui.composer).toHaveValue('Your order shipped today.');
    expect((await api.messages(sessionId)).filter((m) => m.source === 'agent')).toHaveLength(0);

    // Read, rewritten, sent: it goes.
    await ui.composer.fill('I see, the invoice: let me check it.');
    await ui.composer.press('Enter');
    await expect(ui.messages.getByText('I see, the invoice: let me check it.', { exact: true })).toBeVisible();
    await expect(ui.messages.getByText('Sending…')).toHaveCount(0);
    // The held events come in late and change nothing that shows.
    holding = false;
    for (const message of held.splice(0)) toPage.send(message);
    await expect(ui.messages.getByText('actually, it is about my invoice', { exact: true })).toHaveCount(1);
    await expect(ui.messages.getByText('I see, the invoice: let me check it.', { exact: true })).toHaveCount(1);
    const agentTexts = (await api.messages(sessionId)).filter((m) => m.source === 'agent').map((m) => m.text);
    expect(agentTexts).toEqual(['I see, the invoice: let me check it.']);
  } finally {
    await context.close();
  }
});

test('an agent sets Busy in the top bar and the admin\'s team view shows it live; with the browser killed they count as offline after the grace period, not before', async ({ page, browser, request, errors }) => {
  const api = new Api(request);
  const ada = await newAgent(api, 'Ada');
  const { sessionId } = await queuedConversation(api, 'Tess');
  await page.goto(`/modules/hitl?bot=welcome-bot&session=${sessionId}`);
  const boss = team(page);
  await expect(boss.connection).toHaveText('Live');
  await page.getByRole('button', { name: 'Team' }).click();
  const roster = page.getByRole('region', { name: 'Team' });
  const adaRow = roster.getByRole('row').filter({ hasText: ada.name });
  await expect(adaRow).toContainText('Offline');

  const a = await signedIn(browser, errors, ada, sessionId);
  let closed = false;
  try {
    const status = a.page.getByRole('combobox', { name: 'Your status' });
    await expect(status).toHaveValue('online');
    await expect(adaRow).toContainText('Online');
    await expect(adaRow).toContainText('now');
    await status.selectOption('busy');
    await expect(adaRow).toContainText('Busy');
    // The choice is kept: a reload shows it.
    await a.page.reload();
    await expect(a.page.getByRole('combobox', { name: 'Your status' })).toHaveValue('busy');

    await a.ui.claim.click();
    await expect(adaRow).toContainText('1/5');
    // The browser dies without signing out.
    await a.context.close();
    closed = true;
    const gone = Date.now();
    await expect(adaRow).toContainText('Busy');
    await expect(adaRow).toContainText('Offline (chose Busy)', { timeout: 10_000 });
    expect(Date.now() - gone).toBeGreaterThanOrEqual(presenceGrace * 1000 - 500);
  } finally {
    if (!closed) await a.context.close();
  }
});

test('a console cut off for 30 s while a colleague replies and the user writes twice shows all three in order after it is back, once each', async ({ browser, request, errors }) => {
  test.setTimeout(90_000);
  const api = new Api(request);
  const ada = await newAgent(api, 'Ada');
  const bea = await newAgent(api, 'Bea');
  const { token: beaToken } = await api.call('POST', '/api/v1/tokens', { name: `bea ${bea.email}`, userId: bea.id });
  const { sessionId, user } = await queuedConversation(api, 'Gus');
  const context = await browser.newContext();
  watchErrors(context, errors);
  // While `cut`, the console's event socket is closed and every new one refused, as on a lost link.
  let cut = false;
  const open = new Set();
  await context.routeWebSocket(/\/mod\/hitl\/events/, (ws) => {
    if (cut) {
      ws.close({ code: 1011, reason: 'cut' });
      return;
    }
    const server = ws.connectToServer();
    open.add(ws);
    ws.onClose(() => open.delete(ws));
    server.onMessage((message) => ws.send(message));
    ws.onMessage((message) => server.send(message));
  });
  try {
    const { page, ui } = await consoleIn(context, ada, sessionId);
    await expect(ui.messages.getByText('I need a person', { exact: true })).toHaveCount(1);

    cut = true;
    for (const ws of open) await ws.close({ code: 1011, reason: 'cut' });
    await expect(ui.connection).toHaveText('Reconnecting…');
    const cutAt = Date.now();
    // Meanwhile Bea answers (and so takes the conversation) and the user writes twice.
    const replied = await request.post(`/api/v1/bots/welcome-bot/mod/hitl/sessions/${sessionId}/message`, {
      headers: { Authorization: `Bearer ${beaToken}` },
      data: { message: 'Hello Gus, Bea here.' },
    });
    expect(replied.status()).toBe(200);
    await api.converse(user, 'Hi Bea');
    await api.converse(user, 'my parcel is late');
    // The console still shows none of it.
    await expect(ui.messages.getByText('Hello Gus, Bea here.', { exact: true })).toHaveCount(0);
    await page.waitForTimeout(Math.max(0, 30_000 - (Date.now() - cutAt)));

    cut = false;
    await expect(ui.connection).toHaveText('Live', { timeout: 30_000 });
    const texts = ['Hello Gus, Bea here.', 'Hi Bea', 'my parcel is late'];
    for (const text of texts) await expect(ui.messages.getByText(text, { exact: true })).toHaveCount(1);
    const shown = await ui.messages.getByRole('listitem').allTextContents();
    const at = texts.map((text) => shown.findIndex((line) => line.includes(text)));
    expect(at, `in order in ${JSON.stringify(shown)}`).toEqual([...at].sort((a, b) => a - b));
    await expect(ui.owner).toHaveText(`Assigned to ${bea.name}`);
    await expect(ui.lock).toHaveText(`${bea.name} is handling this conversation.`);
  } finally {
    await context.close();
  }
});
