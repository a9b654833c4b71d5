// The populated console in light and dark, with a paused session open: the three panes sit side by
// side in a 1280×760 window, the theme follows the system's colour scheme, and text stays readable.
// Saves test-results/console-light.png and console-dark.png.
import path from 'node:path';
import { test, expect, Api, unique, consoleUi, watchErrors, signInWithForm } from './helpers.mjs';

/** Relative luminance (WCAG) of an "rgb(…)"/"rgba(…)" colour. */
function luminance([r, g, b]) {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The element's text colour and the opaque colour behind it (ancestors' backgrounds blended). */
function colours(locator) {
  return locator.evaluate((el) => {
    const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const text = parse(getComputedStyle(el).color);
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      const alpha = bg.length === 4 ? bg[3] : 1;
      if (alpha > 0) layers.push([...bg.slice(0, 3), alpha]);
      if (alpha === 1) break;
    }
    // Below everything: the canvas, white unless a layer was opaque.
    let under = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      under = [r * a + under[0] * (1 - a), g * a + under[1] * (1 - a), b * a + under[2] * (1 - a)];
    }
    return { text: text.slice(0, 3), background: under };
  });
}

/** A few sessions, and one paused by the bot with a conversation between user, bot and agent. */
async function populate(api) {
  const stamp = unique('shot');
  const people = ['Alan Turing', 'Katherine Johnson', 'Edsger Dijkstra', 'Barbara Liskov', 'Radia Perlman'];
  const firstWords = ['hi', 'where is my order?', 'thanks!', 'can I change my plan?', 'hello'];
  for (const [i, name] of people.entries()) await api.converse(`${stamp}-${i}`, firstWords[i], name);
  await api.pause((await api.converse(`${stamp}-3`, 'I want to cancel')).sessionId, 'billing question');
  const user = `${stamp}-open`;
  const name = 'Margaret Hamilton';
  await api.converse(user, 'hello, my Apollo guidance computer shows alarm 1202', name);
  const paused = await api.converse(user, 'HITL_START');
  expect(paused.paused).toBe(true);
  await api.converse(user, 'is anyone there?');
  await api.reply(paused.sessionId, 'Hi Margaret, I am looking at it now. Can you tell me when it started?');
  await api.converse(user, 'right after the descent began');
  return { user, name, sessionId: paused.sessionId };
}

async function openIn(browser, errors, colorScheme, sessionId) {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 760 } });
  watchErrors(context, errors);
  const page = await context.newPage();
  await page.goto(`/modules/hitl?bot=welcome-bot&session=${sessionId}`);
  await signInWithForm(page);
  const ui = consoleUi(page);
  await expect(ui.connection).toHaveText('Live');
  return { context, page, ui };
}

test('the console with a paused session open, in light and dark (screenshots)', async ({ browser, request, errors }) => {
  const { user, name, sessionId } = await populate(new Api(request));
  const backgrounds = {};
  for (const colorScheme of ['light', 'dark']) {
    const { context, page, ui } = await openIn(browser, errors, colorScheme, sessionId);
    try {
      await expect(ui.heading).toHaveText(name);
      await expect(ui.toggle).toHaveText('Return to bot');
      await expect(ui.pausedBadge).toBeVisible();
      await expect(ui.conversation.getByText(/^by bot: user asked for a human/)).toBeVisible();
      await expect(ui.messages.getByText('right after the descent began')).toBeInViewport();
      await expect(ui.profile).toContainText(user);
      await expect(ui.profile).toContainText('paused');
      await expect(ui.rows.first()).toHaveAttribute('aria-current', 'page');
      await expect(ui.rows.first()).toContainText('Paused');
      // The open conversation is marked read.
      await expect(ui.rows.first().getByLabel(/unread/)).toHaveCount(0);

      // List, conversation and profile side by side, all inside the window.
      const boxes = await Promise.all([ui.sessions, ui.conversation, ui.profile].map((l) => l.boundingBox()));
      for (const box of boxes) {
        expect(box).not.toBeNull();
        expect(box.width).toBeGreaterThan(200);
        expect(box.x + box.width).toBeLessThanOrEqual(1280 + 1);
      }
      expect(boxes[0].x + boxes[0].width).toBeLessThanOrEqual(boxes[1].x + 1);
      expect(boxes[1].x + boxes[1].width).toBeLessThanOrEqual(boxes[2].x + 1);
      await expect(ui.composer).toBeInViewport();
      await expect(ui.bell).toBeInViewport();

      // The theme follows the colour scheme (the contrast is the next test's business).
      backgrounds[colorScheme] = luminance((await colours(ui.heading)).background);

      await page.screenshot({ path: path.join(test.info().project.outputDir, `console-${colorScheme}.png`) });
    } finally {
      await context.close();
    }
  }
  expect(backgrounds.light).toBeGreaterThan(0.5);
  expect(backgrounds.dark).toBeLessThan(0.1);
});

test('text and controls have enough contrast in light and dark (WCAG AA, 4.5:1)', async ({ browser, request, errors }) => {
  const { name, sessionId } = await populate(new Api(request));
  for (const colorScheme of ['light', 'dark']) {
    const { context, ui } = await openIn(browser, errors, colorScheme, sessionId);
    try {
      await expect(ui.toggle).toHaveText('Return to bot');
      const checked = {
        'the conversation heading': ui.heading,
        'a user message': ui.messages.getByText('right after the descent began'),
        'an agent message': ui.messages.getByText(/^Hi Margaret/),
        'a bot message': ui.messages.getByText('Bot paused, a human will get in touch very soon.'),
        'the "Cancel request" button chip': ui.messages.getByText('Cancel request'),
        'a system line': ui.messages.getByText('Paused by bot: user asked for a human'),
        'the "Paused" badge': ui.pausedBadge,
        'the pause details': ui.conversation.getByText(/^by bot: user asked for a human/),
        'the "Return to bot" toggle': ui.toggle,
        'the "Send" button': ui.send,
        'the pressed filter button ("All")': ui.filter('All'),
        'a filter button ("Queue")': ui.filter('Queue'),
        'the "Live" indicator': ui.connection,
        'a session name in the list': ui.rows.first().getByText(name),
        'a preview in the list': ui.row(/Radia Perlman/).first().getByText('Bot: You said: hello'),
      };
      for (const [what, locator] of Object.entries(checked)) {
        await expect(locator).toBeVisible();
        // A node the console re-renders meanwhile has no computed style: read it again.
        let c = await colours(locator);
        await expect.poll(async () => (c = await colours(locator)).text.length, `${what} has a colour`).toBe(3);
        const ratio = contrast(c.text, c.background);
        expect.soft(ratio, `${what} in ${colorScheme}: rgb(${c.text.map(Math.round)}) on rgb(${c.background.map(Math.round)}) is ${ratio.toFixed(2)}:1`)
          .toBeGreaterThanOrEqual(4.5);
      }
    } finally {
      await context.close();
    }
  }
});
