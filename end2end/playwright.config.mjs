// Playwright drives Debian's Chromium against the real release binary on a fresh database.
import { presenceGrace } from './settings.mjs';
import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';

const port = process.env.HITL_E2E_PORT || '3107';
// Set once in the main process (workers inherit it), so the teardown removes the same file.
process.env.HITL_E2E_DATABASE ??= path.join(os.tmpdir(), `hitl-e2e-${process.pid}-${Date.now()}.db`);
const database = process.env.HITL_E2E_DATABASE;
export const token = 'e2e-token';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalTeardown: './teardown.mjs',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--disable-dev-shm-usage'],
    },
  },
  webServer: {
    command: `./target/release/hitl --addr 127.0.0.1:${port} --database-url sqlite://${database} --api-token ${token} --bots-dir bots --admin-email admin@e2e.test --admin-password e2e-admin-password --presence-grace-secs ${presenceGrace}`,
    cwd: '..',
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
  },
});
