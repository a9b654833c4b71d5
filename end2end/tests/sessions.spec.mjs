// The session list: server-side search by name and user id, the Queue filter and the counts on
// the filter buttons, and the keyboard shortcuts that move through it.
import { test, expect, Api, unique, openConsole, filterCount } from './helpers.mjs';

test('search narrows the list by name and by user id, and the Queue filter to queued sessions, with live counts', async ({ page, request }) => {
  const api = new Api(request);
  const stamp = unique('srch');
  // The names do not contain the user ids, so a match on the id is a match on the id.
  const people = [
    { id: `${stamp}-1`, name: `Alba Quist${stamp.slice(-6)}` },
    { id: `${stamp}-2`, name: `Bruno Quist${stamp.slice(-6)}` },
    { id: `${stamp}-3`, name: `Cleo Quist${stamp.slice(-6)}` },
  ];
  for (const p of people) p.session = (await api.converse(p.id, `hi from ${p.name}`, p.name)).sessionId;
  await api.pause(people[1].session, 'search test');
  await api.converse(unique('srch-other'), 'not part of it', 'Somebody Else');

  const ui = await openConsole(page);
  const all = ui.filter('All');
  const paused = ui.filter('Queue');
  await expect(all).toHaveAttribute('aria-pressed', 'true');
  await expect(paused).toHaveAttribute('aria-pressed', 'false');
  const allBefore = await filterCount(all);
  const pausedBefore = await filterCount(paused);
  expect(allBefore).toBeGreaterThanOrEqual(3);
  expect(pausedBefore).toBeGreaterThanOrEqual(1);
  const rowsBefore = await ui.rows.count();
  expect(rowsBefore).toBeGreaterThan(3);
  expect(rowsBefore).toBe(Math.min(allBefore, 50));

  // By name (case does not matter).
  await ui.search.fill(people[1].name.toLowerCase());
  await expect(ui.rows).toHaveCount(1);
  await expect(ui.rows.first()).toHaveAccessibleName(new RegExp(people[1].name));

  // By user id: all three, and only them.
  await ui.search.fill(stamp);
  await expect(ui.rows).toHaveCount(3);
  for (const p of people) await expect(ui.row(new RegExp(p.name))).toBeVisible();
  await ui.search.fill(`${stamp}-3`);
  await expect(ui.rows).toHaveCount(1);
  await expect(ui.rows.first()).toHaveAccessibleName(new RegExp(people[2].name));

  // Nothing matches.
  await ui.search.fill(`${stamp}-nobody`);
  await expect(ui.rows).toHaveCount(0);
  await expect(ui.sessions.getByText('No conversations here.')).toBeVisible();

  // The Queue filter, combined with the search: only the paused (so queued) one.
  await ui.search.fill(stamp);
  await expect(ui.rows).toHaveCount(3);
  await paused.click();
  await expect(paused).toHaveAttribute('aria-pressed', 'true');
  await expect(all).toHaveAttribute('aria-pressed', 'false');
  await expect(ui.rows).toHaveCount(1);
  await expect(ui.rows.first()).toHaveAccessibleName(new RegExp(people[1].name));
  await expect(ui.rows.first().getByText('Paused', { exact: true })).toBeVisible();

  // Pausing another one adds it to this list live and bumps the Queue count.
  await api.pause(people[2].session);
  await expect(ui.rows).toHaveCount(2);
  await expect(ui.row(new RegExp(people[2].name))).toBeVisible();
  await expect(paused).toHaveText(new RegExp(`^Queue ${pausedBefore + 1}$`));
  // Resuming one takes it out again.
  await api.unpause(people[1].session);
  await expect(ui.rows).toHaveCount(1);
  await expect(ui.rows.first()).toHaveAccessibleName(new RegExp(people[2].name));
  await expect(paused).toHaveText(new RegExp(`^Queue ${pausedBefore}$`));

  // Without a search, the Queue filter shows exactly as many rows as its count says.
  await ui.search.fill('');
  const pausedNow = await filterCount(paused);
  await expect(ui.rows).toHaveCount(pausedNow);
  const pausedRows = await ui.rows.all();
  for (const row of pausedRows) await expect(row.getByText('Paused', { exact: true })).toBeVisible();

  // A new session bumps the All count; back on All the list is whole again.
  await api.converse(`${stamp}-4`, 'one more', `Dora Quist${stamp.slice(-6)}`);
  await expect(all).toHaveText(new RegExp(`^All ${allBefore + 1}$`));
  await all.click();
  await expect(all).toHaveAttribute('aria-pressed', 'true');
  await expect(ui.rows).toHaveCount(rowsBefore + 1);
});

test('keyboard: / focuses the search, arrows and j/k move through the rows, Enter opens one, p pauses and resumes it', async ({ page, request }) => {
  const api = new Api(request);
  // No "j" in the names, so the search "jp" typed below finds neither.
  const stamp = unique('keys').replace(/j/g, 'x');
  const older = { id: `${stamp}-a`, name: `Kai ${stamp}` };
  const newer = { id: `${stamp}-b`, name: `Kim ${stamp}` };
  older.session = (await api.converse(older.id, 'first', older.name)).sessionId;
  newer.session = (await api.converse(newer.id, 'second', newer.name)).sessionId;

  const ui = await openConsole(page);
  await expect(ui.rows.first()).toHaveAccessibleName(new RegExp(newer.name));
  await expect(ui.rows.nth(1)).toHaveAccessibleName(new RegExp(older.name));

  await page.keyboard.press('/');
  await expect(ui.search).toBeFocused();
  await expect(ui.search).toHaveValue('');
  // Keys typed in the search box are text, not shortcuts.
  await page.keyboard.type('jp');
  await expect(ui.search).toHaveValue('jp');
  // The list follows what is typed: first "jp", then nothing again (waited for, so no search
  // is still on its way when the arrows move through the rows).
  await expect(ui.row(new RegExp(newer.name))).toHaveCount(0);
  await ui.search.fill('');
  await expect(ui.rows.first()).toHaveAccessibleName(new RegExp(newer.name));
  await expect(ui.rows.nth(1)).toHaveAccessibleName(new RegExp(older.name));
  await ui.search.blur();

  await page.keyboard.press('ArrowDown');
  await expect(ui.rows.first()).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(ui.rows.nth(1)).toBeFocused();
  await page.keyboard.press('k');
  await expect(ui.rows.first()).toBeFocused();
  await page.keyboard.press('j');
  await expect(ui.rows.nth(1)).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(ui.rows.first()).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`[?&]session=${newer.session}(&|$)`));
  await expect(ui.heading).toHaveText(newer.name);
  await expect(ui.rows.first()).toHaveAttribute('aria-current', 'page');
  await expect(ui.toggle).toHaveText('Take over');

  await page.keyboard.press('p');
  await expect(ui.toggle).toHaveText('Return to bot');
  await expect(ui.pausedBadge).toBeVisible();
  await expect.poll(async () => (await api.session(newer.session)).isPaused).toBe(true);
  await page.keyboard.press('p');
  await expect(ui.toggle).toHaveText('Take over');
  await expect(ui.pausedBadge).toHaveCount(0);
  await expect.poll(async () => (await api.session(newer.session)).isPaused).toBe(false);

  // `p` typed in the composer is text; once Esc has left the field it is the shortcut again.
  await ui.composer.click();
  await page.keyboard.type('p');
  await expect(ui.composer).toHaveValue('p');
  await page.keyboard.press('Escape');
  await expect(ui.composer).not.toBeFocused();
  await page.keyboard.press('p');
  await expect(ui.toggle).toHaveText('Return to bot');
  await expect.poll(async () => (await api.session(newer.session)).isPaused).toBe(true);
  await expect(ui.composer).toHaveValue('p');
});
