// Two agents on the lists by owner: the Queue longest waiting first with its waiting time and a
// Claim button on each row, Mine and Others as each agent sees them, Closed today with why,
// counts that follow live, who is viewing a conversation, in its row and its header, and the
// handoff in analytics.
import { test, expect, Api, unique, consoleUi, newAgent, signedInAt, filterCount } from './helpers.mjs';

async function queued(api, first, tag) {
  const user = unique(first.toLowerCase());
  const name = `${first} ${tag}`;
  const { sessionId } = await api.converse(user, 'I need a person', name);
  await api.pause(sessionId, 'asked for a person');
  return { sessionId, user, name };
}

test('the queue lists the longest waiting first; a claim from its row moves it to Mine for one agent and Others for the other; a resolved one is closed today; both see who views what', async ({ browser, request, errors }) => {
  const api = new Api(request);
  const [ada, bea] = [await newAgent(api, 'Ada'), await newAgent(api, 'Bea')];
  const tag = unique('lst');
  const quinn = await queued(api, 'Quinn', tag);
  const rosa = await queued(api, 'Rosa', tag);
  // Quinn writes again: the newest activity, still first in line.
  await api.converse(quinn.user, 'hello?');

  const a = await signedInAt(browser, errors, ada, '/modules/hitl?bot=welcome-bot');
  const b = await signedInAt(browser, errors, bea, `/modules/hitl?bot=welcome-bot&session=${rosa.sessionId}`);
  try {
    const ui = consoleUi(a.page);
    const theirs = consoleUi(b.page);
    for (const u of [ui, theirs]) await expect(u.connection).toHaveText('Live');
    await ui.search.fill(tag);
    await ui.filter('Queue').click();
    await expect(ui.rows).toHaveCount(2);
    await expect(ui.rows.nth(0)).toContainText(quinn.name);
    await expect(ui.rows.nth(1)).toContainText(rosa.name);
    const quinnRow = ui.sessions.getByRole('listitem').filter({ hasText: quinn.name });
    const rosaRow = ui.sessions.getByRole('listitem').filter({ hasText: rosa.name });
    await expect(quinnRow.getByRole('timer', { name: 'Waiting' })).toHaveText(/^\d\d:\d\d$/);
    // Bea has Rosa open: Ada's row says so.
    await expect(rosaRow.getByLabel('Viewing')).toHaveText(`Viewing: ${bea.name}`);
    await expect(quinnRow.getByLabel('Viewing')).toHaveCount(0);

    const queueBefore = await filterCount(ui.filter('Queue'));
    const mineBefore = await filterCount(ui.filter('Mine'));
    const othersSeenByBea = await filterCount(theirs.filter('Others'));
    await quinnRow.getByRole('button', { name: `Claim ${quinn.name}` }).click();
    await expect(a.page).toHaveURL(new RegExp(`session=${quinn.sessionId}`));
    const ownership = ui.conversation.getByRole('group', { name: 'Ownership' });
    await expect(ownership.getByRole('status')).toHaveText('Assigned to you');
    await expect(ownership.getByLabel("Owner's load")).toHaveText(/^· [1-9]\d*\/\d+$/);
    await expect(ui.rows).toHaveCount(1);
    await expect(ui.rows.first()).toContainText(rosa.name);
    await expect(ui.filter('Queue')).toHaveText(`Queue ${queueBefore - 1}`);
    await expect(ui.filter('Mine')).toHaveText(`Mine ${mineBefore + 1}`);
    await expect(theirs.filter('Others')).toHaveText(`Others ${othersSeenByBea + 1}`);

    await ui.filter('Mine').click();
    await expect(ui.rows).toHaveCount(1);
    await expect(ui.rows.first()).toContainText(quinn.name);
    await theirs.search.fill(tag);
    await theirs.filter('Others').click();
    await expect(theirs.rows).toHaveCount(1);
    await expect(theirs.rows.first()).toContainText(quinn.name);
    await expect(theirs.rows.first()).toContainText(ada.name);

    // Ada opened Quinn's: Bea's list says so; then Bea opens it too, and each header names the other.
    const quinnForBea = theirs.sessions.getByRole('listitem').filter({ hasText: quinn.name });
    await expect(quinnForBea.getByLabel('Viewing')).toHaveText(`Viewing: ${ada.name}`);
    await theirs.rows.first().click();
    await expect(theirs.heading).toHaveText(quinn.name);
    await expect(theirs.conversation.getByRole('note', { name: 'Also viewing' })).toHaveText(`${ada.name} is viewing too`);
    await expect(ui.conversation.getByRole('note', { name: 'Also viewing' })).toHaveText(`${bea.name} is viewing too`);
    await expect(theirs.conversation.getByRole('group', { name: 'Ownership' }).getByRole('status')).toHaveText(`Assigned to ${ada.name}`);

    // Ada resolves it: it leaves Mine and joins Closed today, with why, for both.
    const closedBefore = await filterCount(ui.filter('Closed today'));
    await ownership.getByRole('button', { name: 'Return to bot…' }).click();
    await ownership.getByRole('button', { name: 'Close as resolved' }).click();
    await expect(ui.rows).toHaveCount(0);
    await expect(ui.filter('Closed today')).toHaveText(`Closed today ${closedBefore + 1}`);
    await ui.filter('Closed today').click();
    await expect(ui.rows).toHaveCount(1);
    await expect(ui.rows.first()).toContainText(quinn.name);
    await expect(ui.rows.first()).toContainText('Resolved');

    // Bea leaves the console: Ada's header no longer names her.
    await b.page.goto('/history');
    await expect(ui.conversation.getByRole('note', { name: 'Also viewing' })).toHaveCount(0);

    // Analytics counts Ada's handoff and why it closed.
    await a.page.goto('/analytics?bot=welcome-bot');
    const byAgent = a.page.getByRole('region', { name: 'By agent' });
    await expect(byAgent.getByRole('row', { name: new RegExp(`^${ada.name} 1 `) })).toBeVisible();
    const reasons = a.page.getByRole('region', { name: 'Why handoffs closed' });
    await expect(reasons.getByRole('row', { name: /^Resolved \d+$/ })).toBeVisible();
    await expect(a.page.getByText('Time in queue')).toBeVisible();
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
