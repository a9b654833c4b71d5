// Notifications: a toast, the bell's count and list, the tab title; opening one leads to its
// session and marks it read; "Mark all read" clears the count.
import { test, expect, Api, unique, openConsole } from './helpers.mjs';

test('a notification posted by the API shows as a toast, in the bell and the tab title, opens its session and is marked read', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('notify');
  const name = `Nora ${user}`;
  const { sessionId } = await api.converse(user, 'hello', name);
  // Earlier tests left unread notifications: start from none. Those for everyone the API token
  // reads; those for the admin alone (a handover while they were online) only the admin.
  await api.readAllNotifications();
  expect((await api.notifications()).unreadCount).toBe(0);
  const ui = await openConsole(page);
  const csrf = (await page.context().cookies()).find((c) => c.name === 'hitl_csrf')?.value;
  const read = await page.request.post('/api/v1/notifications/read', { headers: { 'x-csrf-token': csrf } });
  expect(read.status()).toBe(200);
  await page.reload();
  await expect(ui.connection).toHaveText('Live');
  await expect(ui.bell).toHaveAccessibleName('Notifications');
  await expect(page).toHaveTitle('hitl');
  await expect(ui.conversation.getByText('Pick a conversation on the left.')).toBeVisible();

  const withSession = `${name} needs a human`;
  const withoutSession = `Deploy ${user} finished`;
  const first = await api.notify({ message: withSession, level: 'warning', url: '/modules/hitl', sessionId });
  await expect(ui.toasts.getByText(withSession, { exact: true })).toBeVisible();
  await expect(ui.bell).toHaveAccessibleName('Notifications, 1 unread');
  await expect(page).toHaveTitle('(1) hitl');

  await api.notify({ message: withoutSession, level: 'success' });
  await expect(ui.toasts.getByText(withoutSession, { exact: true })).toBeVisible();
  await expect(ui.bell).toHaveAccessibleName('Notifications, 2 unread');
  await expect(page).toHaveTitle('(2) hitl');

  // The list, newest first.
  await expect(ui.bellList).toBeHidden();
  await ui.bell.click();
  await expect(ui.bell).toHaveAttribute('aria-expanded', 'true');
  await expect(ui.bellList).toBeVisible();
  const links = ui.bellList.getByRole('link');
  await expect(links.nth(0)).toContainText(withoutSession);
  await expect(links.nth(1)).toContainText(withSession);

  // Opening the one with a session shows that session (no page load) and marks it read.
  await page.evaluate(() => { window.__sameDocument = true; });
  await ui.bellList.getByRole('link', { name: withSession }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]session=${sessionId}(&|$)`));
  await expect(ui.heading).toHaveText(name);
  await expect(ui.bellList).toBeHidden();
  await expect(ui.bell).toHaveAccessibleName('Notifications, 1 unread');
  await expect(page).toHaveTitle('(1) hitl');
  expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
  await expect
    .poll(async () => (await api.notifications()).notifications.find((n) => n.id === first.id)?.read)
    .toBe(true);
  expect((await api.notifications()).unreadCount).toBe(1);

  // "Mark all read" clears the count, here and on the server.
  await ui.bell.click();
  const markAll = ui.bellList.getByRole('button', { name: 'Mark all read' });
  await expect(markAll).toBeEnabled();
  await markAll.click();
  await expect(ui.bell).toHaveAccessibleName('Notifications');
  await expect(page).toHaveTitle('hitl');
  await expect(markAll).toBeDisabled();
  await expect.poll(async () => (await api.notifications()).unreadCount).toBe(0);

  // And it stays that way after a reload.
  await page.reload();
  await expect(ui.connection).toHaveText('Live');
  await expect(ui.bell).toHaveAccessibleName('Notifications');
  await expect(page).toHaveTitle('hitl');
});

test('the toast of a notification with a session links to it', async ({ page, request }) => {
  const api = new Api(request);
  const user = unique('toast');
  const name = `Theo ${user}`;
  const { sessionId } = await api.converse(user, 'hello', name);
  const ui = await openConsole(page);
  const message = `${name} asked for a human`;
  await api.notify({ message, level: 'info', sessionId });
  const toast = ui.toasts.getByText(message, { exact: true });
  await expect(toast).toBeVisible();
  await ui.toasts.getByRole('link', { name: 'Open' }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]session=${sessionId}(&|$)`));
  await expect(ui.heading).toHaveText(name);
});
