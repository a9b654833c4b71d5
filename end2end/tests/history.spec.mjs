// History review as an admin does it: search, read the transcript with its handoffs, export.
import { test, expect, Api, unique } from './helpers.mjs';

test('an admin searches the history, opens the transcript with its handoffs marked, and exports it', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('hist');
  const word = unique('zebra').replace(/-/g, '');
  const { sessionId } = await api.converse(user, `my ${word} order is late`, 'Hedy Lamarr');
  await api.converse(user, 'HITL_START');
  await api.reply(sessionId, `Sorry about the ${word} order, I am on it`);
  await api.unpause(sessionId);

  await page.goto('/history');
  await expect(page.getByRole('heading', { name: 'History', level: 1 })).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search messages' }).fill(word);
  await page.getByLabel('Said by').selectOption('user');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${word}`));

  const results = page.getByRole('region', { name: 'Results' });
  const group = results.getByRole('article').filter({ hasText: 'Hedy Lamarr' });
  await expect(group).toHaveCount(1);
  await expect(group.locator('mark')).toHaveText(word);
  await expect(group.getByRole('listitem')).toHaveCount(1);

  // Without the source filter the agent's reply is found too, in the same conversation.
  await page.getByLabel('Said by').selectOption('');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(group.getByRole('listitem')).toHaveCount(3);

  await group.getByRole('link', { name: 'Hedy Lamarr' }).click();
  await expect(page).toHaveURL(new RegExp(`/history/welcome-bot/${sessionId}$`));
  await expect(page.getByRole('heading', { name: 'Hedy Lamarr', level: 2 })).toBeVisible();
  const human = page.getByRole('region', { name: 'Human part' });
  await expect(human.getByText('Handed to a human')).toBeVisible();
  await expect(human.getByText('Paused by bot: user asked for a human')).toBeVisible();
  await expect(human.getByText(`Sorry about the ${word} order, I am on it`)).toBeVisible();
  await expect(human.getByText('api (agent)')).toBeVisible();
  await expect(human.getByText('Returned to the bot')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Bot part' }).first().getByText(`my ${word} order is late`, { exact: true })).toBeVisible();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'JSON Lines' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^hitl-history-.*\.jsonl$/);
  const lines = (await (await download.createReadStream()).toArray()).join('').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.sessionId)).toEqual(lines.map(() => sessionId));
  expect(lines.map((l) => l.handoff).filter(Boolean)).toEqual(['paused', 'resumed']);
  expect(lines.find((l) => l.source === 'agent').segment).toBe('human');
});

test('the history shows typed markup as text', async ({ page, request }) => {
  const api = new Api(request);
  const word = unique('markup').replace(/-/g, '');
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await api.converse(unique('x'), `${word} <img src=x onerror=alert(1)>`, '<script>alert(2)</script>');
  await page.goto(`/history?q=${word}&source=user`);
  const group = page.getByRole('region', { name: 'Results' }).getByRole('article');
  await expect(group.getByRole('heading')).toHaveText('<script>alert(2)</script>');
  await expect(group.getByText(`${word} <img src=x onerror=alert(1)>`)).toBeVisible();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test('an admin deletes a conversation from its transcript; it is gone from the history and in the audit log', async ({ page, request }) => {
  const api = new Api(request);
  const word = unique('erase').replace(/-/g, '');
  const { sessionId } = await api.converse(unique('gdpr'), `please forget ${word}`, 'Rosalind Franklin');
  await page.goto(`/history/welcome-bot/${sessionId}`);
  // The delete buttons work once the page is hydrated.
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Delete this conversation…' }).click();
  await expect(page.getByRole('alert')).toContainText('for good');
  await page.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page).toHaveURL(/\/history\?deleted=1$/);
  await expect(page.getByRole('status')).toHaveText('The conversation is deleted.');

  await page.goto(`/history?q=${word}`);
  await expect(page.getByRole('status')).toHaveText('No message matches.');
  await page.goto('/admin?tab=audit');
  await page.getByLabel('What').selectOption('session.');
  await page.getByRole('button', { name: 'Filter' }).click();
  const row = page.getByRole('row').filter({ hasText: 'session.deleted' }).first();
  await expect(row).toContainText('admin@e2e.test');
  await expect(row.getByRole('link', { name: `welcome-bot #${sessionId}` })).toBeVisible();
});
