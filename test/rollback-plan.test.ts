/** The way back of `upgrade --atomic` as pure data: one minor at a time, from where EKS left the add-on. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minorIndex, parseAddonVersion } from '../src/upgrade-planner/version.js';
import { planRollback, sameValues, type RollbackPosition, type WalkedStep } from '../src/decide/rollback-plan.js';

const v12 = 'v1.12.6-eksbuild.2';
const v13 = 'v1.13.4-eksbuild.1';
const v14 = 'v1.14.0-eksbuild.3';
const managedWalk: WalkedStep[] = [
  { from: v12, to: v13, action: 'update' },
  { from: v13, to: v14, action: 'update' },
];
const adoption: WalkedStep[] = [
  { from: 'v1.12.6', to: v13, action: 'create' },
  { from: v13, to: v14, action: 'update' },
];
const at = (version: string | null, status: string | null, running: string | null, configurationValues: string | null = null): RollbackPosition => ({
  managed: version !== null,
  version,
  status,
  running,
  configurationValues,
});
const managedStart = { version: v12, managed: true, configurationValues: '{"env":{"WARM_ENI_TARGET":"2"}}' };
const selfStart = { version: 'v1.12.6', managed: false, configurationValues: null };
const brief = (steps: ReturnType<typeof planRollback>) => steps.map((s) => `${s.action} ${s.from}→${s.to}`);

describe('planRollback', () => {
  it.each([
    ['step 2 UPDATE_FAILED (nothing applied): one update back', managedWalk, at(v13, 'UPDATE_FAILED', v13), [`update ${v13}→${v12}`]],
    ['step 2 applied, rollout stuck: two updates back', managedWalk, at(v14, 'ACTIVE', v14), [`update ${v14}→${v13}`, `update ${v13}→${v12}`]],
    ['step 1 UPDATE_FAILED: one update at the start version clears it', managedWalk, at(v12, 'UPDATE_FAILED', v12, managedStart.configurationValues), [`update ${v12}→${v12}`]],
    ['at the start, ACTIVE, same values, same image: nothing to do', managedWalk, at(v12, 'ACTIVE', v12, '{"env": {"WARM_ENI_TARGET": "2"}}'), []],
  ])('a managed start: %s', (_name, steps, now, expected) => {
    expect(brief(planRollback(steps, managedStart, now))).toEqual(expected);
  });

  it.each([
    ['the create CREATE_FAILED', adoption, at(v13, 'CREATE_FAILED', 'v1.12.6'), [`forget ${v13}→${v13}`, `restore ${v13}→v1.12.6`]],
    ['step 2 applied: update down to the created version, then forget and restore', adoption, at(v14, 'ACTIVE', v14), [`update ${v14}→${v13}`, `forget ${v13}→${v13}`, `restore ${v13}→v1.12.6`]],
    ['the create was refused at once (no record)', adoption, at(null, null, 'v1.12.6'), ['restore v1.12.6→v1.12.6']],
  ])('an adoption: %s', (_name, steps, now, expected) => {
    expect(brief(planRollback(steps, selfStart, now))).toEqual(expected);
  });

  it('a self-managed run goes back by putting the backup back, or not at all when it never moved', () => {
    const applies: WalkedStep[] = [{ from: 'v1.12.6', to: 'v1.13.4', action: 'apply' }];
    expect(brief(planRollback(applies, selfStart, at(null, null, 'v1.13.4')))).toEqual(['restore v1.13.4→v1.12.6']);
    expect(planRollback(applies, selfStart, at(null, null, 'v1.12.6'))).toEqual([]);
  });

  it.each([
    [null, '{}', true],
    [null, '', true],
    ['{"a":1,"b":2}', '{"b":2,"a":1}', true],
    ['{"env":{"X":"1"}}', '{"env":{"X":"2"}}', false],
    ['{"env":{"X":"1"}}', null, false],
  ])('sameValues(%j, %j) is %s', (a, b, expected) => {
    expect(sameValues(a, b)).toBe(expected);
  });

  it('property: from any point of any walk up or down, every update moves at most one minor and the way ends at the start', () => {
    const minor = (v: string) => minorIndex(parseAddonVersion(v));
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        fc.constantFrom('ACTIVE', 'UPDATE_FAILED', 'DEGRADED', 'CREATE_FAILED'),
        (first, length, up, adopt, where, status) => {
          const versions = Array.from({ length: length + 1 }, (_, i) => `v1.${up ? first + i : first + length - i}.0-eksbuild.1`);
          const steps: WalkedStep[] = versions.slice(1).map((to, i) => ({ from: versions[i]!, to, action: adopt && i === 0 ? 'create' : 'update' }));
          const start = { version: versions[0]!, managed: !adopt, configurationValues: null };
          // The record sits anywhere the run got to (for an adoption: at or after the created version).
          const at = adopt ? 1 + (where % length) : where % (length + 1);
          const plan = planRollback(steps, start, { managed: true, version: versions[at]!, status, configurationValues: '{"env":{"X":"1"}}', running: versions[at]! });
          const updates = plan.filter((s) => s.action === 'update');
          for (const u of updates) expect(Math.abs(minor(u.from) - minor(u.to))).toBeLessThanOrEqual(1);
          // Consecutive: each step starts where the last one ended.
          for (let i = 1; i < plan.length; i++) expect(plan[i]!.from).toBe(plan[i - 1]!.to);
          expect(plan.at(-1)!.to).toBe(start.version);
          if (adopt) expect(plan.slice(-2).map((s) => s.action)).toEqual(['forget', 'restore']);
          else expect(plan.every((s) => s.action === 'update')).toBe(true);
        },
      ),
    );
  });
});
