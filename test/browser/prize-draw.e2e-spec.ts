import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AppProcess, RedisServer, waitFor } from '@lattice/testing';
import { FakeGithub } from '../fixtures/prize-draw/fake-github';

jest.setTimeout(180_000);

/** Debian's chromium package (.ci/run installs it when missing). */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
const ADMIN = { login: 'root', password: 'root-password-1' };
const DRAW = 'browser-demo';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/**
 * The draw pages in a real browser (headless Chromium driven by
 * playwright-core), everything through one gateway as in production: the
 * pages, the API, `/auth/*` and the Socket.IO connection (WebSocket) to the
 * realtime app behind it. An entrant on a phone enters the draw; an admin
 * signs in on the admin page, closes the draw and picks the winners; the
 * entrant's page, never reloaded, shows each step as it happens.
 */
describe('the prize draw pages in Chromium', () => {
  let redis: RedisServer;
  let github: FakeGithub;
  let auth: AppProcess;
  let realtime: AppProcess;
  let gateway: AppProcess;
  let browser: Browser;
  const problems: string[] = [];

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `prize-draw-${name}.png`), fullPage: true });

  /** A page that records console errors and failed requests, which a clean page has none of. */
  async function open(context: BrowserContext, path: string): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      // Chromium logs every 4xx answer the pages expect (401 before signing in, a refused entry).
      const expected = /^Failed to load resource: the server responded with a status of 4\d\d/;
      if (message.type() === 'error' && !expected.test(message.text())) {
        problems.push(`${path}: console: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`${path}: ${error.message}`));
    page.on('requestfailed', (request) => {
      problems.push(`${path}: request failed: ${request.url()} (${request.failure()?.errorText})`);
    });
    await page.goto(gateway.url(path));
    return page;
  }

  const text = async (page: Page, selector: string) =>
    ((await page.locator(selector).textContent()) ?? '').trim();
  const stateOf = (page: Page) => page.locator('#state').getAttribute('data-state');
  const waitForState = (page: Page, state: string) =>
    page.waitForSelector(`#state[data-state="${state}"]`);
  /**
   * Polls a check in the page from here. Playwright's own waitForFunction polls
   * inside the page with eval, which the pages' Content-Security-Policy
   * (script-src 'self') rightly refuses once the first check came out false.
   */
  const until = (page: Page, what: string, expression: string) =>
    waitFor(what, async () => (await page.evaluate(expression)) === true, 10_000, 50);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    redis = await RedisServer.start();
    github = await FakeGithub.start([
      { login: 'octocat', name: 'The Octocat' },
      { login: 'ada-l', name: 'Ada Lovelace' },
      { login: 'grace-h', name: 'Grace Hopper' },
    ]);
    const env = {
      REDIS_URL: redis.url,
      GITHUB_API_URL: github.url,
      ADMIN_LOGIN: ADMIN.login,
      ADMIN_PASSWORD: ADMIN.password,
    };
    [auth, realtime] = await Promise.all([
      AppProcess.start('auth', env),
      AppProcess.start('realtime', env),
    ]);
    gateway = await AppProcess.start('gateway', {
      ...env,
      AUTH_URL: auth.url(''),
      REALTIME_URL: realtime.url(''),
    });
    await Promise.all(
      [auth, realtime, gateway].map((app) =>
        waitFor('ready', async () => (await fetch(app.url('/health/ready'))).status === 200),
      ),
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([gateway, realtime, auth].map((app) => app?.stop()));
    await github?.close();
    await redis?.dispose();
  });

  it('enters a draw on a phone, runs it from the admin page, and shows the winners live', async () => {
    const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const entrant = await browser.newContext(PHONE);
    try {
      await runTheDraw(admin, entrant);
    } catch (error) {
      // What each page showed, and what the apps said, for whoever reads the CI artefacts.
      const pages = [...admin.pages(), ...entrant.pages()];
      await Promise.all(pages.map((page, i) => shot(page, `failure-${i}`).catch(() => undefined)));
      for (const app of [gateway, auth, realtime]) {
        process.stderr.write(`--- ${app.app} output ---\n${app.logs.slice(-4000)}\n`);
      }
      throw error;
    } finally {
      await Promise.all([admin.close(), entrant.close()]);
    }
  });

  async function runTheDraw(admin: BrowserContext, entrant: BrowserContext): Promise<void> {
    const adminPage = await open(admin, `/draw/admin?id=${DRAW}`);

    // Signing in through the gateway's /auth/login; the session cookie does the rest.
    await adminPage.waitForSelector('#signin-box:not([hidden])');
    await shot(adminPage, '1-admin-sign-in');
    await adminPage.fill('#login', ADMIN.login);
    await adminPage.fill('#password', 'not-the-password');
    await adminPage.click('#signin-button');
    await adminPage.waitForSelector('#signin-error:not([hidden])');
    expect(await text(adminPage, '#signin-error')).toMatch(/wrong login or password/i);
    await adminPage.fill('#password', ADMIN.password);
    await adminPage.click('#signin-button');
    await adminPage.waitForSelector('#console:not([hidden])');
    await waitForState(adminPage, 'NO_DRAW');
    expect(await text(adminPage, '#who')).toMatch(/signed in as/i);

    // Starting the draw.
    await adminPage.fill('#prizes-input', 'Mechanical keyboard\nT-shirt\nSticker pack');
    await adminPage.click('#start-button');
    await waitForState(adminPage, 'DRAW_OPEN_NO_ENTRANTS');
    await adminPage.waitForSelector('#live[data-live="yes"]');

    // The entry page on a phone.
    const entryPage = await open(entrant, `/draw?id=${DRAW}`);
    await waitForState(entryPage, 'DRAW_OPEN_NO_ENTRANTS');
    await entryPage.waitForSelector('#live[data-live="yes"]');
    // Set once: a reload would lose it, so its survival proves the page was never reloaded.
    await entryPage.evaluate('window.marker = "same page"');
    expect(await entryPage.locator('#prizes li').allTextContents()).toEqual([
      'Mechanical keyboard',
      'T-shirt',
      'Sticker pack',
    ]);
    await shot(entryPage, '2-entry-open-phone');

    await entryPage.fill('#github-id', 'not a name');
    await entryPage.click('#enter-button');
    await entryPage.waitForSelector('#enter-error:not([hidden])');
    expect(await text(entryPage, '#enter-error')).toMatch(/GitHub user name/);
    await entryPage.fill('#github-id', 'OctoCat');
    await entryPage.click('#enter-button');
    await entryPage.waitForSelector('#entered-box:not([hidden])');
    expect(await text(entryPage, '#entered-name')).toBe('The Octocat');
    expect(await entryPage.locator('#entered-avatar img').getAttribute('src')).toBe(
      github.avatarOf('octocat'),
    );
    await shot(entryPage, '3-entry-entered-phone');

    // Two more entrants from elsewhere: both pages count them live.
    for (const githubId of ['ada-l', 'grace-h']) {
      const res = await fetch(gateway.url(`/api/draws/${DRAW}/entries`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ githubId }),
      });
      expect(res.status).toBe(201);
    }
    for (const page of [entryPage, adminPage]) {
      await page.waitForSelector('#entrants:text-is("3")');
    }
    await waitForState(adminPage, 'DRAW_OPEN_WITH_ENTRANTS');
    await shot(adminPage, '4-admin-open-with-entrants');

    // The admin closes the draw: the entry page says so at once.
    await adminPage.click('#close-button');
    await waitForState(adminPage, 'DRAW_CLOSED_WITH_ENTRANTS');
    await waitForState(entryPage, 'DRAW_CLOSED_WITH_ENTRANTS');
    await entryPage.waitForSelector('#closed-box:not([hidden])');
    await shot(entryPage, '5-entry-closed-phone');

    // The admin picks the winners: they appear on the open entry page.
    await adminPage.click('#winners-button');
    await waitForState(adminPage, 'DRAW_WON');
    await waitForState(entryPage, 'DRAW_WON');
    await entryPage.waitForSelector('#winners-box:not([hidden]) .draw-winner');
    const names = await entryPage.locator('.draw-winner-name').allTextContents();
    const prizes = await entryPage.locator('.draw-winner-prize').allTextContents();
    expect([...names].sort()).toEqual(['Ada Lovelace', 'Grace Hopper', 'The Octocat']);
    expect(prizes).toEqual(['Mechanical keyboard', 'T-shirt', 'Sticker pack']);
    expect(await entryPage.locator('.draw-winner.is-mine').count()).toBe(1);
    // Avatars loaded (from the fake GitHub), not broken images.
    await until(
      entryPage,
      'the winners’ avatars to load',
      '[...document.querySelectorAll(".draw-winner img")].every((img) => img.complete && img.naturalWidth > 0)',
    );
    expect(await entryPage.evaluate('window.marker')).toBe('same page');
    expect(await adminPage.locator('#winners .draw-winner').count()).toBe(3);
    await shot(entryPage, '6-entry-winners-phone');
    await shot(adminPage, '7-admin-winners');

    // The admin page is usable on a phone too.
    const phoneAdmin = await browser.newContext(PHONE);
    await phoneAdmin.addCookies(await admin.cookies());
    const adminOnPhone = await open(phoneAdmin, `/draw/admin?id=${DRAW}`);
    await waitForState(adminOnPhone, 'DRAW_WON');
    const overflow = await adminOnPhone.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(adminOnPhone, '8-admin-phone');
    expect(await stateOf(entryPage)).toBe('DRAW_WON');

    await phoneAdmin.close();
    expect(problems).toEqual([]);
  }
});
