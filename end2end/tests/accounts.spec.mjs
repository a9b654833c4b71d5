// Signing in and out of the console as a person would, and what users type never running as
// HTML in it.
import { test, expect, Api, admin, botPath, unique, openConsole, consoleUi, signInWithForm } from './helpers.mjs';

test('a stranger is asked to sign in, a wrong password is refused, the right one opens the console, and signing out ends it', async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/modules/hitl');
  await expect(page).toHaveURL(/\/login\?next=/);
  await expect(page.getByRole('heading', { name: 'Sign in to hitl' })).toBeVisible();

  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');

  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${baseURL}/modules/hitl`);
  const ui = consoleUi(page);
  await expect(ui.connection).toHaveText('Live');
  const account = page.getByRole('navigation', { name: 'Account' });
  await expect(account.getByRole('link', { name: 'admin (admin)' })).toBeVisible();

  await account.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await page.goto('/modules/hitl');
  await expect(page).toHaveURL(/\/login\?next=/);
  await context.close();
});

test('markup typed by a user, or given as their name, shows as text and never runs', async ({ page, request }) => {
  const api = new Api(request);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const user = unique('xss');
  const name = `<img src=x onerror=alert(1)> ${user}`;
  const { sessionId } = await api.converse(user, '<script>alert(2)</script>', name);
  await api.converse(user, '<img src=x onerror="alert(3)">');

  const ui = await openConsole(page, sessionId);
  await expect(ui.heading).toHaveText(name);
  await expect(ui.messages.getByText('<script>alert(2)</script>', { exact: true })).toBeVisible();
  await expect(ui.messages.getByText('<img src=x onerror="alert(3)">', { exact: true })).toBeVisible();
  await expect(ui.row(new RegExp(user))).toContainText('<img src=x onerror=alert(1)>');
  // Nothing of it became an element.
  expect(await page.locator('main img[src="x"], img[src="x"]').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test('an admin adds an agent who signs in with the temporary password, and makes an API token that stops working when revoked', async ({ page, browser, request, baseURL }) => {
  const email = `${unique('agent')}@e2e.test`;
  await page.goto('/admin');
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  // The form is the hydrated page's: what is typed before the bundle runs is not kept.
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Name (shown on what they do)').fill('Grace');
  await page.getByRole('checkbox', { name: 'welcome-bot' }).check();
  await page.getByRole('button', { name: 'Add user' }).click();
  const shown = page.getByRole('status').filter({ hasText: `Temporary password for ${email}:` });
  await expect(shown).toBeVisible();
  const password = (await shown.locator('code').textContent()).trim();
  await expect(page.getByRole('cell', { name: email, exact: true })).toBeVisible();

  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  await agent.goto('/modules/hitl');
  await signInWithForm(agent, { email, password });
  await expect(consoleUi(agent).connection).toHaveText('Live');
  const account = agent.getByRole('navigation', { name: 'Account' });
  await expect(account.getByRole('link', { name: 'Grace (agent)' })).toBeVisible();
  await expect(account.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await agent.goto('/admin');
  await expect(agent.getByRole('alert')).toHaveText('Only admins may see this page.');
  await agentContext.close();

  await page.goto('/admin?tab=tokens');
  await expect(page.getByRole('heading', { name: 'API tokens' })).toBeVisible();
  // As with the users form: what is typed before the bundle runs is not kept.
  await page.waitForLoadState('networkidle');
  const name = unique('deploy');
  await page.getByLabel('Name (what uses it)').fill(name);
  await page.getByLabel('Bot').selectOption('welcome-bot');
  await page.getByRole('button', { name: 'Make token' }).click();
  const made = page.getByRole('status').filter({ hasText: `The token "${name}":` });
  await expect(made).toBeVisible();
  const token = (await made.locator('code').textContent()).trim();
  const sessions = () => request.get(`${baseURL}${botPath}/mod/hitl/sessions`, { headers: { Authorization: `Bearer ${token}` } });
  expect((await sessions()).status()).toBe(200);
  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByRole('row', { name: new RegExp(name) }).getByRole('cell', { name: 'revoked' })).toBeVisible();
  expect((await sessions()).status()).toBe(401);
});
