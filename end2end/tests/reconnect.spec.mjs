// A server restart under an open console: the console shows "Reconnecting…", comes back "Live" and
// resumes the event stream where it stopped, so what happened meanwhile shows exactly once.
// This test runs its own server (the shared one must not be stopped).
import { test, expect, Api, unique, openConsole, realErrors } from './helpers.mjs';
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
  });
  await request.dispose();
});
