/**
 * Every page keeps its settings in one typed state mirrored in the URL hash (issue 14 item 6):
 * set a few fields on each page, the address changes to a link holding exactly those fields;
 * reload, and they are still set; open the link in a FRESH browser profile (nothing in storage),
 * and the page opens with the same fields. A link with a bad or unknown field applies the rest
 * and says what it skipped. Linked library surfaces are found by content hash (the bundled
 * samples have the same hash in every profile).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openLab, screenshot, stopServer, type Lab } from './harness.ts';

afterAll(async () => {
  await stopServer();
});

type Page = Lab['page'];

/** Waits until the address holds every `key=value` (the page writes it ~150 ms after a change). */
async function linkWith(page: Page, pageId: string, pairs: string[]): Promise<string> {
  await expect
    .poll(() => {
      const u = new URL(page.url());
      const [id, q] = u.hash.replace(/^#\//, '').split('?');
      const have = new URLSearchParams(q ?? '');
      return id === pageId && pairs.every((p) => have.get(p.split('=')[0]!) === p.split('=').slice(1).join('='));
    }, { timeout: 15_000 })
    .toBe(true);
  return page.url();
}

const value = (page: Page, testid: string) => page.getByTestId(testid).inputValue();

describe('page state in the URL', () => {
  it('every page restores its settings from a link, after a reload and in a fresh profile', async () => {
    const links: Record<string, string> = {};
    let lab = await openLab();
    try {
      const { page } = lab;

      // Pricer: parameters, calibration settings and the surface to calibrate (by content hash).
      await page.goto(`${lab.url}#/pricer`);
      await page.getByTestId('atm-1y').waitFor({ timeout: 60_000 });
      await page.getByTestId('param-kappa').fill('3.5');
      await page.getByTestId('param-v0').fill('0.9'); // crypto-sized: inside the calibrator's bounds
      await page.getByTestId('multi-start').fill('3');
      const heston = await page.locator('[data-testid=calibrate-source] option', { hasText: 'Heston κ=2' }).getAttribute('value', { timeout: 30_000 });
      await page.selectOption('[data-testid=calibrate-source]', heston!);
      links.pricer = await linkWith(page, 'pricer', ['kappa=3.5', 'v0=0.9', 'multi-start=3', `surface=${heston}`]);
      // An empty box is flagged, not priced, and not written into the link.
      await page.getByTestId('param-theta').fill('');
      await expect.poll(() => page.getByTestId('param-error').textContent()).toMatch(/theta is empty/);
      expect(await page.getByTestId('param-theta').getAttribute('aria-invalid')).toBe('true');
      await page.waitForTimeout(400);
      expect(new URL(page.url()).hash).not.toMatch(/theta=/);
      await page.getByTestId('param-theta').fill('1.2');
      links.pricer = await linkWith(page, 'pricer', ['kappa=3.5', 'theta=1.2']);

      // Surfaces: the shown surface (a bundled sample, by hash), the filter, the generator.
      await page.goto(`${lab.url}#/surfaces`);
      const proxyEntry = page.locator('[data-testid=library-entry][data-name*="proxy"]').first();
      await proxyEntry.waitFor({ timeout: 30_000 });
      await proxyEntry.locator('button.pick').click();
      const shown = (await page.getByTestId('surface-name').textContent())!;
      await page.getByTestId('synth-kind').selectOption('proxy');
      await page.getByTestId('synth-n').fill('5000');
      links.surfaces = await linkWith(page, 'surfaces', ['synth-kind=proxy', 'synth-n=5000']);
      expect(new URL(links.surfaces).hash).toMatch(/surface=[0-9a-f]+/);

      // Inverse: the page says the trainer's defaults; set a few; a too-small training set is refused.
      await page.goto(`${lab.url}#/inverse`);
      await page.getByTestId('inv-epochs').waitFor({ timeout: 30_000 });
      expect(await value(page, 'inv-epochs')).toBe('20');
      expect(await value(page, 'inv-batch')).toBe('256');
      await page.getByTestId('inv-n').fill('100');
      await expect.poll(() => page.getByTestId('inv-train-problem').textContent()).toMatch(/at least 500 surfaces/);
      expect(await page.getByTestId('inv-train').isDisabled()).toBe(true);
      await page.getByTestId('inv-n').fill('3000');
      await page.getByTestId('inv-epochs').fill('7');
      await page.getByTestId('inv-lr').fill('0.001');
      await page.getByTestId('inv-eval-seed').fill('777');
      links.inverse = await linkWith(page, 'inverse', ['n=3000', 'epochs=7', 'lr=0.001', 'eval-seed=777']);

      // Diagnostics: which backends and the matMul size.
      await page.goto(`${lab.url}#/diagnostics`);
      await page.getByTestId('selftest-size').waitFor({ timeout: 30_000 });
      await page.getByTestId('selftest-size').selectOption('256');
      await page.getByTestId('selftest-which').selectOption('wasm');
      links.diagnostics = await linkWith(page, 'diagnostics', ['size=256', 'backends=wasm']);

      // Data: the Binance series.
      await page.goto(`${lab.url}#/data`);
      await page.getByTestId('symbol').waitFor({ timeout: 30_000 });
      await page.getByTestId('symbol').fill('ETHUSDT');
      await page.getByTestId('interval').selectOption('4h');
      links.data = await linkWith(page, 'data', ['symbol=ETHUSDT', 'interval=4h']);

      // RL: the market, a PPOConfig field from the generated form, and the per-year reward preset.
      await page.goto(`${lab.url}#/rl`);
      await page.getByTestId('rl-steps').waitFor({ timeout: 30_000 });
      expect(await value(page, 'rl-steps')).toBe('4000');
      await page.getByTestId('rl-market-kind').selectOption('gbm');
      await page.getByTestId('rl-steps').fill('1200');
      await page.getByTestId('rl-market-seed').fill('5');
      const lr = page.locator('[data-testid=rl-ppo-form] [data-field=lr]');
      await lr.fill('0.0001');
      await lr.dispatchEvent('change');
      await page.getByTestId('rl-use-per-year').click();
      await page.getByTestId('rl-per-year-on').waitFor();
      links.rl = await linkWith(page, 'rl', ['market-kind=gbm', 'market-steps=1200', 'market-seed=5', 'lr=0.0001', 'reward=risk', 'reward-preset=perYear']);

      // Smile: a training field of the generated form, what to record, the store's retention.
      await page.goto(`${lab.url}#/smile`);
      await page.getByTestId('smile-record-source').waitFor({ timeout: 30_000 });
      await page.locator('[data-testid=smile-config] [data-field=model]').selectOption('lstm');
      const seq = page.locator('[data-testid=smile-config] [data-field=seqLength]');
      await seq.fill('12');
      await seq.dispatchEvent('change');
      await page.getByTestId('smile-record-source').selectOption('contracts');
      await page.getByTestId('smile-record-contracts').fill('BTC-27DEC24-100000-C');
      await page.getByTestId('smile-max-mb').fill('5');
      links.smile = await linkWith(page, 'smile', ['model=lstm', 'seq-length=12', 'source=contracts', 'contracts=BTC-27DEC24-100000-C', 'max-mb=5']);
      await page.reload();
      await expect.poll(() => page.locator('[data-testid=smile-config] [data-field=seqLength]').inputValue(), { timeout: 30_000 }).toBe('12');
      expect(await value(page, 'smile-record-contracts')).toBe('BTC-27DEC24-100000-C');

      // Back to a page by the navigation (no settings in its link): its state comes back.
      await page.locator('nav a[href="#/pricer"]').click();
      await expect.poll(() => value(page, 'param-kappa'), { timeout: 30_000 }).toBe('3.5');
      await linkWith(page, 'pricer', ['kappa=3.5', 'theta=1.2']);

      // Reload the Inverse link: the fields are still set.
      await page.goto(links.inverse);
      await page.reload();
      await expect.poll(() => value(page, 'inv-epochs'), { timeout: 30_000 }).toBe('7');
      expect(await value(page, 'inv-n')).toBe('3000');
      expect(lab.errors).toEqual([]);
      await lab.close();

      // A fresh profile: nothing in storage, only the links.
      lab = await openLab();
      const fresh = lab.page;
      await fresh.goto(links.pricer);
      await expect.poll(() => value(fresh, 'param-kappa'), { timeout: 60_000 }).toBe('3.5');
      expect(await value(fresh, 'param-theta')).toBe('1.2');
      expect(await value(fresh, 'param-v0')).toBe('0.9');
      expect(await value(fresh, 'multi-start')).toBe('3');
      // The linked surface is a bundled sample: this profile has it under the same hash.
      await expect.poll(() => fresh.locator('[data-testid=calibrate-source]').inputValue(), { timeout: 30_000 }).toBe(new URLSearchParams(new URL(links.pricer).hash.split('?')[1]).get('surface'));
      await screenshot(fresh, 'state-pricer-from-link');

      await fresh.goto(links.surfaces);
      await expect.poll(() => fresh.getByTestId('surface-name').textContent(), { timeout: 30_000 }).toBe(shown);
      expect(await fresh.getByTestId('synth-kind').inputValue()).toBe('proxy');
      expect(await value(fresh, 'synth-n')).toBe('5000');

      await fresh.goto(links.inverse);
      await expect.poll(() => value(fresh, 'inv-epochs'), { timeout: 30_000 }).toBe('7');
      expect(await value(fresh, 'inv-n')).toBe('3000');
      expect(await value(fresh, 'inv-lr')).toBe('0.001');
      expect(await value(fresh, 'inv-eval-seed')).toBe('777');
      expect(await value(fresh, 'inv-batch')).toBe('256'); // not in the link: the default

      await fresh.goto(links.diagnostics);
      await expect.poll(() => fresh.getByTestId('selftest-size').inputValue(), { timeout: 30_000 }).toBe('256');
      expect(await fresh.getByTestId('selftest-which').inputValue()).toBe('wasm');

      await fresh.goto(links.data);
      await expect.poll(() => value(fresh, 'symbol'), { timeout: 30_000 }).toBe('ETHUSDT');
      expect(await fresh.getByTestId('interval').inputValue()).toBe('4h');

      await fresh.goto(links.rl);
      await expect.poll(() => value(fresh, 'rl-steps'), { timeout: 30_000 }).toBe('1200');
      expect(await fresh.getByTestId('rl-market-kind').inputValue()).toBe('gbm');
      expect(await value(fresh, 'rl-market-seed')).toBe('5');
      expect(await fresh.locator('[data-testid=rl-ppo-form] [data-field=lr]').inputValue()).toBe('0.0001');
      expect(await fresh.locator('[data-testid=rl-env-form] [data-field=reward]').inputValue()).toBe('risk');
      expect(await fresh.locator('[data-testid=rl-env-form] [data-field=rewardPreset]').inputValue()).toBe('perYear');
      await fresh.getByTestId('rl-per-year-on').waitFor();
      // Not in the link: PPOConfig's default, shown as the placeholder.
      expect(await fresh.locator('[data-testid=rl-ppo-form] [data-field=totalSteps]').getAttribute('placeholder')).toBe('200000');

      await fresh.goto(links.smile);
      await expect.poll(() => fresh.locator('[data-testid=smile-config] [data-field=model]').inputValue(), { timeout: 30_000 }).toBe('lstm');
      expect(await fresh.locator('[data-testid=smile-config] [data-field=seqLength]').inputValue()).toBe('12');
      expect(await fresh.getByTestId('smile-record-source').inputValue()).toBe('contracts');
      expect(await value(fresh, 'smile-record-contracts')).toBe('BTC-27DEC24-100000-C');
      expect(await value(fresh, 'smile-max-mb')).toBe('5');
      await expect.poll(() => fresh.getByTestId('smile-store-limit').textContent(), { timeout: 30_000 }).toBe('5 MB'); // the worker got it
      expect(await fresh.locator('[data-testid=smile-config] [data-field=epochs]').getAttribute('placeholder')).toBe('20'); // the trainer's default

      // A link with a bad and an unknown field: the rest applies, the page says what it skipped.
      await fresh.goto(`${lab.url}#/pricer?kappa=-1&rho=0.25&bogus=2`);
      await fresh.reload();
      await expect.poll(() => fresh.getByTestId('state-ignored').textContent(), { timeout: 30_000 }).toMatch(/kappa: must be ≥ 0\.0001.*"bogus" is not a setting/);
      expect(await value(fresh, 'param-rho')).toBe('0.25');
      expect(await value(fresh, 'param-kappa')).toBe('2');
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close().catch(() => undefined);
    }
  });
});
