// Headless Debian Chromium for page tests: a fresh profile of its own (removed on close), and no
// traffic of its own beyond the page under test.
import type { ExecutionContext } from 'ava';
import { chromium, type Browser } from 'playwright-core';

export async function launchChromium(t?: ExecutionContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t?.teardown(() => browser.close());
  return browser;
}
