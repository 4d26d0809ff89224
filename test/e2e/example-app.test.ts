/**
 * The example app in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): each demo user logs in and sees only their own orders,
 * and an expired token is refreshed through the page's token provider.
 * Tessera and the example backend run in-process on ephemeral ports.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp } from '../../examples/app/create-example-app.js';
import { DEMO_USERS } from '../../examples/app/demo-users.js';
import { listen, monthsOf, ordersByMonth, type Listening } from '../client/live-server.js';
import { createTestApp, REPO_ROOT, testDatabaseUrl, type TestApp } from '../support/test-app.js';
import { TEST_SECRET } from '../support/tokens.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');
/** The year the page shows by default. */
const YEAR = 2025;
/** Short enough to expire during the test, long enough to load the page once. */
const SHORT_TOKEN_SECONDS = 3;

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`Skipping the example-app browser test: ${CHROMIUM} is missing (install Debian's chromium package; .ci/run does).`);
}

interface TableRow {
  month: string;
  count: string;
  amount: string;
}

let tessera: TestApp;
let tesseraServer: Listening;
let app: Listening;
let shortLivedApp: Listening;
let browser: Browser;

async function logIn(page: Page, origin: string, username: string, password: string): Promise<void> {
  await page.goto(origin);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('form#login button[type=submit]');
}

const waitForLoads = (page: Page, n: number): Promise<unknown> =>
  page.waitForFunction((count) => Number(document.body.dataset.loaded ?? 0) >= count, n);

const readTable = (page: Page): Promise<TableRow[]> =>
  page.$$eval('#orders tbody tr', (rows) =>
    rows.map((tr) => {
      const d = (tr as HTMLElement).dataset;
      return { month: d.month ?? '', count: d.count ?? '', amount: d.amount ?? '' };
    }),
  );

// The table the page must show: every month of the year, from SQL written by hand.
async function expectedTable(userId: number): Promise<TableRow[]> {
  const rows = await ordersByMonth(testDatabaseUrl(), userId, YEAR);
  return monthsOf(YEAR).map((month) => {
    const row = rows.find((r) => r.month === month);
    return { month: month.slice(0, 7), count: row?.count ?? '0', amount: row?.amount ?? '0' };
  });
}

describe.skipIf(!hasChromium)('example app in headless Chromium', () => {
  beforeAll(async () => {
    tessera = await createTestApp();
    tesseraServer = await listen(tessera.app);
    app = await listen(createExampleApp({ tesseraUrl: tesseraServer.origin, apiSecret: TEST_SECRET }));
    shortLivedApp = await listen(
      createExampleApp({ tesseraUrl: tesseraServer.origin, apiSecret: TEST_SECRET, tokenExpiresIn: SHORT_TOKEN_SECONDS }),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([app?.close(), shortLivedApp?.close()]);
    await tesseraServer?.close();
    await tessera?.close();
  });

  it.each(DEMO_USERS.map((u) => [u.username, u] as const))(
    '%s logs in and sees exactly their own orders by month in the table and the chart',
    async (_name, user) => {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      try {
        await logIn(page, app.origin, user.username, user.password);
        await waitForLoads(page, 1);

        const expected = await expectedTable(user.userId);
        expect(await page.textContent('[data-testid=error]')).toBe('');
        expect(await page.textContent('[data-testid=who]')).toBe(user.displayName);
        expect(await readTable(page)).toEqual(expected);
        const bars = await page.$$eval('#chart rect.bar', (rects) => rects.map((r) => r.getAttribute('data-value')));
        expect(bars).toEqual(expected.map((r) => r.count));
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, `example-app-${user.username}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    },
  );

  it('shows different numbers to the two demo users', async () => {
    const [first, second] = DEMO_USERS;
    expect(await expectedTable(first!.userId)).not.toEqual(await expectedTable(second!.userId));
  });

  it('refreshes an expired token through the page token provider and keeps showing the data', async () => {
    const user = DEMO_USERS[0]!;
    const context = await browser.newContext();
    const page = await context.newPage();
    const tokens: string[] = [];
    const events: string[] = [];
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (url.pathname === '/auth/tessera-token') {
        events.push(`token ${res.status()}`);
        void res.json().then((b: { token: string }) => tokens.push(b.token));
      }
      if (url.pathname === '/cubejs-api/v1/load') events.push(`load ${res.status()}`);
    });
    try {
      await logIn(page, shortLivedApp.origin, user.username, user.password);
      await waitForLoads(page, 1);
      expect(await page.textContent('[data-testid=token-count]')).toBe('1');
      await expect.poll(() => tokens.length).toBe(1);

      // Wait until Tessera itself rejects the page's token as expired.
      await expect
        .poll(
          async () => {
            const res = await fetch(`${tesseraServer.apiUrl}/meta`, { headers: { Authorization: tokens[0]! } });
            return ((await res.json()) as { code?: string }).code;
          },
          { timeout: 20_000, interval: 250 },
        )
        .toBe('ERR_AUTH_TOKEN_EXPIRED');

      await page.click('#reload');
      await waitForLoads(page, 2);

      expect(await page.textContent('[data-testid=error]')).toBe('');
      expect(await page.textContent('[data-testid=token-count]')).toBe('2');
      expect(events).toEqual(['token 200', 'load 200', 'load 403', 'token 200', 'load 200']);
      expect(tokens[1]).not.toBe(tokens[0]);
      expect(await readTable(page)).toEqual(await expectedTable(user.userId));
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'example-app-after-refresh.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('rejects a wrong password and gives no token without a login', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await logIn(page, app.origin, DEMO_USERS[0]!.username, 'wrong-password');
      await expect.poll(() => page.textContent('#login-error')).toBe('Wrong username or password.');
      expect(await page.isVisible('#dashboard')).toBe(false);
      const status = await page.evaluate(async () => (await fetch('/auth/tessera-token')).status);
      expect(status).toBe(401);
    } finally {
      await context.close();
    }
  });
});
