// Servers of their own for tests that stop and start hitl (the shared one must not be stopped).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { admin, expect, token } from './helpers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const running = new Set();

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `target/release/hitl` on `port` and `database` with the bots of `botsDir`; answers once
 * /healthz says ok.
 */
export async function startServer(port, database, log, botsDir = 'bots') {
  const child = spawn(
    path.join(root, 'target/release/hitl'),
    ['--addr', `127.0.0.1:${port}`, '--database-url', `sqlite://${database}`,
     '--api-token', token, '--bots-dir', botsDir,
     '--admin-email', admin.email, '--admin-password', admin.password],
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

export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** For `test.afterAll`: no server outlives the tests. */
export async function stopAll() {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * A hitl of the test's own on a free port and a fresh database, which the test may stop and start
 * again. `run(fn)` hands `fn` the server; on failure the server's log is attached to the report,
 * and afterwards the server is stopped and its database removed.
 */
export class OwnServer {
  constructor(name) {
    this.name = name;
    this.log = [];
    this.child = null;
    this.database = path.join(os.tmpdir(), `hitl-e2e-${name}-${process.pid}-${Date.now()}.db`);
  }

  /** `bots`: extra bot files (`{ id: toml }`) next to the repository's. */
  static async run(testInfo, name, fn, bots = {}) {
    const own = new OwnServer(name);
    if (Object.keys(bots).length > 0) {
      own.botsDir = fs.mkdtempSync(path.join(os.tmpdir(), `hitl-e2e-bots-${name}-`));
      for (const file of fs.readdirSync(path.join(root, 'bots'))) {
        fs.copyFileSync(path.join(root, 'bots', file), path.join(own.botsDir, file));
      }
      for (const [id, toml] of Object.entries(bots)) fs.writeFileSync(path.join(own.botsDir, `${id}.toml`), toml);
    }
    own.port = await freePort();
    own.origin = `http://127.0.0.1:${own.port}`;
    try {
      await own.start();
      await fn(own);
    } catch (e) {
      await testInfo.attach('server log', { body: own.log.join(''), contentType: 'text/plain' });
      throw e;
    } finally {
      await own.stop();
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${own.database}${suffix}`, { force: true });
      if (own.botsDir) fs.rmSync(own.botsDir, { recursive: true, force: true });
    }
  }

  async start() {
    this.child = await startServer(this.port, this.database, this.log, this.botsDir);
  }

  async stop() {
    if (this.child) await stopServer(this.child);
    this.child = null;
  }
}

/** Every WebSocket `page` opens from now on: its url and whether it has closed. */
export function trackSockets(page) {
  const sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), closed: false };
    ws.on('close', () => { s.closed = true; });
    ws.on('socketerror', () => { s.closed = true; });
    sockets.push(s);
  });
  return sockets;
}
