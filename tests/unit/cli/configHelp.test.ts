/**
 * CLI help and option defaults come from the same typed configs as the pages (issue 14 item 6):
 * `inverse train` and `calibrate` print every spec field with its spec default, take the spec's
 * flags, refuse what the spec refuses, and `inverse predict` names its own --resample flag when a
 * surface is on another grid.
 */
import { describe, expect, it } from 'vitest';
import { inverseCommands } from '../../../cli/commands/inverse.ts';
import { calibrateCommand } from '../../../cli/commands/heston.ts';
import { DEFAULT_TRAIN_CONFIG, TRAIN_CONFIG_SPEC } from '../../../src/core/inverse/trainer.ts';
import { CALIBRATION_SETTINGS_SPEC } from '../../../src/core/heston/calibrationConfig.ts';
import { flagName, formatDefault } from '../../../src/core/config.ts';

const cmd = (name: string) => inverseCommands.find((c) => c.name === name)!;

describe('CLI help from the config specs', () => {
  it('inverse train lists every trainer field with the trainer’s default', () => {
    const usage = cmd('inverse train').usage;
    for (const [key, f] of Object.entries(TRAIN_CONFIG_SPEC)) {
      const line = usage.split('\n').find((l) => l.trimStart().startsWith(`--${flagName(key)} `));
      expect(line, key).toBeDefined();
      expect(line).toContain(`(default ${formatDefault(f as never)})`);
    }
    expect(DEFAULT_TRAIN_CONFIG.epochs).toBe(30);
    expect(usage).toMatch(/--epochs N +passes over the training split \(default 30\)/);
  });

  it('calibrate lists its settings with the settings’ defaults', () => {
    for (const [key, f] of Object.entries(CALIBRATION_SETTINGS_SPEC)) {
      expect(calibrateCommand.usage).toMatch(new RegExp(`--${flagName(key)} .*\\(default ${formatDefault(f as never)}\\)`));
    }
  });

  it('refuses what the spec refuses, naming the flag', async () => {
    await expect(cmd('inverse train').run(['--synthetic', 'heston', '--n', '50', '--epochs', '0', '--out', '/tmp/never.hlckpt'], {})).rejects.toThrow(/--epochs: must be ≥ 1, got 0/);
    await expect(cmd('inverse train').run(['--synthetic', 'heston', '--n', '50', '--mode', 'both', '--out', '/tmp/never.hlckpt'], {})).rejects.toThrow(/--mode: must be one of synthetic, real, mixed/);
    await expect(cmd('inverse train').run(['--synthetic', 'heston', '--n', '50', '--batch', '8', '--out', '/tmp/never.hlckpt'], {})).rejects.toThrow(/batch/);
    await expect(calibrateCommand.run(['--multi-start', '0'], {})).rejects.toThrow(/--multi-start: must be ≥ 1, got 0/);
  });

  it('inverse predict refuses a surface on another grid, naming --resample', async () => {
    await expect(
      cmd('inverse predict').run(['--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--surface', 'public/samples/stylised_crypto.npz'], {}),
    ).rejects.toThrow(/stylised_crypto\.npz: k grid .* differs from the model's .*: pass --resample to resample it onto the checkpoint's grid/);
  }, 30_000);
});
