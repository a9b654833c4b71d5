// A server restart under an open console: the console shows "Reconnecting…", comes back "Live" and
// resumes the event stream where it stopped, so what happened meanwhile shows exactly once.
// This test runs its own server (the shared one must not be stopped).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect, Api, unique, openConsole, token, realErrors } from './helpers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const running = new Set();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `target/release/hitl` on `port` and `database`; answers once /healthz says ok. */
async function startServer(port, database, log) {
  const child = spawn(
    path.join(root, 'target/release/hitl'),
    ['--addr', `127.0.0.1:${port}`, '--database-url', `sqlite://${database}`,
     '--api-token', token, '--bots-dir', 'bots'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.on('exit', () => running.delete(child));
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  await expect
    .poll(async () => {
      if (child.exitCode !== null) return `exited with ${child.exitCode}`;
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
      } catch {
        return 'down';
      }
    }, { timeout: 30_000, intervals: [50, 100, 200] })
    .toBe(200);
  return child;
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

test.afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
});

test('after a server restart the console reconnects and shows what was posted meanwhile exactly once', async ({ page, playwright, errors }) => {
  test.setTimeout(60_000);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const database = path.join(os.tmpdir(), `hitl-e2e-reconnect-${process.pid}-${Date.now()}.db`);
  const log = [];
  const request = await playwright.request.newContext();
  let server;
  try {
    server = await startServer(port, database, log);
    const api = new Api(request, origin);
    const user = unique('restart');
    const name = `Rhea ${user}`;
    const { sessionId } = await api.converse(user, 'before the stop', name);

    // Every socket the console opens, and whether it has closed.
    const sockets = [];
    page.on('websocket', (ws) => {
      const s = { url: ws.url(), closed: false };
      ws.on('close', () => { s.closed = true; });
      ws.on('socketerror', () => { s.closed = true; });
      sockets.push(s);
    });

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
    await stopServer(server);
    await expect(ui.connection).toHaveText('Reconnecting…');
    // Three refused attempts: the next one waits 4 s, time enough to post while it reconnects.
    await expect.poll(() => sockets.slice(before).filter((s) => s.closed).length, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);

    server = await startServer(port, database, log);
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
  } catch (e) {
    await test.info().attach('server log', { body: log.join(''), contentType: 'text/plain' });
    await test.info().attach('page errors', { body: errors.join('\n'), contentType: 'text/plain' });
    throw e;
  } finally {
    await request.dispose();
    if (server) await stopServer(server);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${database}${suffix}`, { force: true });
  }
});
