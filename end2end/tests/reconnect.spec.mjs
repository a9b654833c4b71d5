// A server restart under an open console: the console shows "Reconnecting…", comes back "Live" and
// resumes the event stream where it stopped, so what happened meanwhile shows exactly once.
// Without its sign-in, the server refuses the socket and the console goes to the sign-in page.
// These tests run their own server (the shared one must not be stopped).
import fs from 'node:fs';
import { test, expect, Api, unique, openConsole, realErrors, signInWithForm } from './helpers.mjs';
import { OwnServer, trackSockets, stopAll } from './servers.mjs';

test.afterAll(stopAll);

test('after a server restart the console reconnects and shows what was posted meanwhile exactly once', async ({ page, playwright, errors }) => {
  test.setTimeout(60_000);
  const request = await playwright.request.newContext();
  await OwnServer.run(test.info(), 'reconnect', async (server) => {
    const origin = server.origin;
    const api = new Api(request, origin);
    const user = unique('restart');
    const name = `Rhea ${user}`;
    const { sessionId } = await api.converse(user, 'before the stop', name);

    // Every socket the console opens, and whether it has closed.
    const sockets = trackSockets(page);

    const ui = await openConsole(page, sessionId, origin);
    const bubbles = (text) => ui.messages.getByText(text, { exact: true });
    await expect(bubbles('before the stop')).toHaveCount(1);
    await expect(bubbles('You said: before the stop')).toHaveCount(1);
    // Opening the session marks it read (a second later): let that finish while the server is up.
    const row = ui.row(new RegExp(name));
    await expect(row).toBeVisible();
    await expect(row.getByLabel(/unread/)).toHaveCount(0);

    // Nothing went wrong so far.
    expect(realErrors(errors)).toEqual([]);
    const downFrom = errors.length;
    const before = sockets.length;
    await server.stop();
    await expect(ui.connection).toHaveText('Reconnecting…');
    // Three refused attempts: the next one waits 4 s, time enough to post while it reconnects.
    await expect.poll(() => sockets.slice(before).filter((s) => s.closed).length, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);

    await server.start();
    const after = await api.converse(user, 'after the restart');
    expect(after).toMatchObject({ sessionId, paused: false });
    await expect(ui.connection).toHaveText('Reconnecting…');

    await expect(ui.connection).toHaveText('Live', { timeout: 20_000 });
    // While the server was down the browser reported the console's failed connections (the
    // socket's retries, a background fetch): those, and only those, were expected.
    const whileDown = errors.splice(downFrom);
    const ours = origin.replace(/\./g, '\\.');
    for (const e of whileDown) {
      expect(e).toMatch(new RegExp(`^console\\.error on ${ours}/\\S*: (WebSocket connection to 'ws://${ours.slice(7)}/api/v1/bots/welcome-bot/mod/hitl/events[^']*' failed: .*|Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET|CLOSED))$`));
    }
    // The resumed socket asks for what happened since the last event it saw.
    expect(sockets.at(-1).url).toMatch(/[?&]since=\d+/);
    await expect(bubbles('after the restart')).toHaveCount(1);
    await expect(bubbles('You said: after the restart')).toHaveCount(1);
    await expect(bubbles('before the stop')).toHaveCount(1);
    await expect(bubbles('You said: before the stop')).toHaveCount(1);
    await expect(ui.messages.getByRole('listitem')).toHaveCount(4);
    await expect(row).toContainText('Bot: You said: after the restart');

    // And it is live again: a new message arrives once.
    await api.converse(user, 'live again');
    await expect(bubbles('You said: live again')).toHaveCount(1);
    await expect(ui.messages.getByRole('listitem')).toHaveCount(6);
    // Left before the server stops, as in timers.spec.mjs.
    await page.goto('about:blank');
  });
  await request.dispose();
});

test('a console whose sign-in is gone when the server is back goes to the sign-in page, which leads back to it', async ({ page, errors }) => {
  test.setTimeout(60_000);
  await OwnServer.run(test.info(), 'signin-gone', async (server) => {
    const ui = await openConsole(page, undefined, server.origin);
    expect(realErrors(errors)).toEqual([]);
    const downFrom = errors.length;
    await server.stop();
    await expect(ui.connection).toHaveText('Reconnecting…');
    // The server comes back without this browser's sign-in (as after a sign-in expired while
    // the computer slept): the socket is refused at the upgrade, which a browser cannot read.
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${server.database}${suffix}`, { force: true });
    await server.start();
    await page.waitForURL(/\/login\?/, { timeout: 20_000 });
    expect(new URL(page.url()).searchParams.get('next')).toBe('/modules/hitl');
    await expect(page.getByRole('status')).toHaveText('You are signed out.');
    await signInWithForm(page);
    await expect(page).toHaveURL(`${server.origin}/modules/hitl`);
    await expect(ui.connection).toHaveText('Live');
    // While it was down and refused, the browser reported the failed connections and the 401s;
    // a report can reach the test after the page moved on, so they are read at the end.
    const ours = server.origin.replace(/\./g, '\\.');
    for (const e of errors.splice(downFrom)) {
      expect(e).toMatch(new RegExp(`^console\\.error on ${ours}/\\S*: (WebSocket connection to 'ws://${ours.slice(7)}/api/v1/bots/welcome-bot/mod/hitl/events[^']*' failed: .*|Failed to load resource: (net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)|the server responded with a status of 401 .*))$`));
    }
  });
});
