// Headless Chromium for the web console's tests: Debian's chromium-headless-shell driven by
// playwright-core (no browser download). Tests skip, saying why, when the binary is missing
// (CONVEYOR_REQUIRE_ALL_CLIENTS=1, as in CI, makes that a failure). Screenshots are kept as test
// artefacts under test-results/console/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CONVEYOR_CHROMIUM ?? '/usr/bin/chromium-headless-shell';
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/console/', import.meta.url));

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const message = `${CHROMIUM} not found (Debian package chromium-headless-shell; .ci/run installs it)`;
  if (process.env.CONVEYOR_REQUIRE_ALL_CLIENTS === '1') throw new Error(message);
  return message;
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI and this machine run tests as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** Saves a full-page screenshot as test-results/console/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
