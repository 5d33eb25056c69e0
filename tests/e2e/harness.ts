/**
 * Shared set-up for the browser tests: serve dist/ on localhost, launch Debian's Chromium with
 * the flags in shared/DESIGN.md and a fresh profile, and collect console errors so every test can
 * assert the page ran clean.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JS module without types
import { serve } from '../../scripts/serve.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface Lab {
  url: string;
  context: BrowserContext;
  page: Page;
  /** console.error messages and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export interface LabOptions {
  webgpu?: boolean;
  /** Reuse a profile directory (to test persistence across reloads / restarts). */
  userDataDir?: string;
  /** Extra Chromium flags. */
  flags?: string[];
  /** Path under the served root (defaults to the root). */
  prefix?: string;
}

let server: { url: string; close(): Promise<void> } | undefined;

export async function startServer(prefix = '/'): Promise<string> {
  // LAB_DIST lets a developer test a build in another folder without clobbering dist/.
  if (!server) server = await serve(process.env.LAB_DIST ?? 'dist', 0, { prefix });
  return server!.url;
}

export async function stopServer(): Promise<void> {
  await server?.close();
  server = undefined;
}

export function freshProfile(): string {
  return mkdtempSync(join(tmpdir(), 'heston-lab-profile-'));
}

export async function openLab(opts: LabOptions = {}): Promise<Lab> {
  const url = await startServer(opts.prefix);
  const userDataDir = opts.userDataDir ?? freshProfile();
  const flags = [...BASE_FLAGS, ...(opts.webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan'] : []), ...(opts.flags ?? [])];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: flags,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    url,
    context,
    page,
    errors,
    async close() {
      await context.close();
      if (!opts.userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test-results/ (looked at by a person, kept by CI). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync('test-results', { recursive: true });
  const path = join('test-results', `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export type { Browser, Page };
