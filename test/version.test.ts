import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UsageError } from '../src/errors.js';
import {
  compareVersionStrings,
  formatAddonVersion,
  formatKubernetesVersion,
  minorIndex,
  parseAddonVersion,
  parseKubernetesVersion,
  tryParseAddonVersion,
  versionMatches,
} from '../src/upgrade-planner/version.js';
import realNames from '../fixtures/describe-addon-versions/aws-cli-example3.k8s-1.26.vpc-cni.addonVersion-list.json' with { type: 'json' };

describe('parseAddonVersion', () => {
  it.each([
    ['v1.14.0-eksbuild.3', { major: 1, minor: 14, patch: 0, build: 3 }],
    ['v1.14.0', { major: 1, minor: 14, patch: 0, build: null }],
    ['1.14.0', { major: 1, minor: 14, patch: 0, build: null }],
    ['1.12.6-eksbuild.2', { major: 1, minor: 12, patch: 6, build: 2 }],
    ['  v1.19.5-eksbuild.20 ', { major: 1, minor: 19, patch: 5, build: 20 }],
  ])('accepts %j', (text, expected) => {
    expect(parseAddonVersion(text)).toEqual(expected);
  });

  it.each(['', 'latest', 'v1.14', 'v1.14.0-eksbuild', 'v1.14.0-eksbuild.', 'v1.14.0-rc.1', 'V1.14.0', 'v01.14.0', 'v1.14.0-eksbuild.03', 'vv1.14.0', 'v1.14.0.1'])(
    'rejects %j with a UsageError that shows the expected form',
    (text) => {
      expect(tryParseAddonVersion(text)).toBeNull();
      expect(() => parseAddonVersion(text)).toThrow(UsageError);
      expect(() => parseAddonVersion(text)).toThrow(
        `"${text}" is not an add-on version; use the form v1.14.0-eksbuild.3 (or v1.14.0, 1.14.0).`,
      );
    },
  );

  it('gives exit code 2 and shortens very long input', () => {
    const long = 'x'.repeat(100);
    try {
      parseAddonVersion(long);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect((error as Error).message).toContain(`"${'x'.repeat(60)}…"`);
    }
  });

  it.each(realNames as string[])('parses the real catalogue name %s and formats it back', (name) => {
    expect(formatAddonVersion(parseAddonVersion(name))).toBe(name);
  });
});

describe('ordering', () => {
  it.each([
    ['v1.14.0-eksbuild.2', 'v1.14.0-eksbuild.20'],
    ['v1.14.0-eksbuild.3', 'v1.14.0-eksbuild.20'],
    ['v1.14.0', 'v1.14.0-eksbuild.1'],
    ['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3'],
    ['v1.9.0-eksbuild.1', 'v1.10.0-eksbuild.1'],
    ['v1.16.3-eksbuild.2', 'v1.16.4-eksbuild.2'],
  ])('%s < %s', (a, b) => {
    expect(compareVersionStrings(a, b)).toBeLessThan(0);
    expect(compareVersionStrings(b, a)).toBeGreaterThan(0);
  });

  it('sorts the real 1.26 list exactly as EKS lists it (newest first)', () => {
    const shuffled = [...(realNames as string[])].reverse();
    expect(shuffled.sort((a, b) => compareVersionStrings(b, a))).toEqual(realNames);
  });

  it('v1.14.0 and 1.14.0 are equal', () => {
    expect(compareVersionStrings('v1.14.0', '1.14.0')).toBe(0);
  });
});

describe('versionMatches and minorIndex', () => {
  it.each([
    ['v1.14.0', 'v1.14.0-eksbuild.3', true],
    ['1.14.0', 'v1.14.0-eksbuild.1', true],
    ['v1.14.0-eksbuild.3', 'v1.14.0-eksbuild.3', true],
    ['v1.14.0-eksbuild.3', 'v1.14.0-eksbuild.1', false],
    ['v1.14.0', 'v1.14.1-eksbuild.1', false],
  ])('%s names %s: %s', (wanted, candidate, expected) => {
    expect(versionMatches(parseAddonVersion(wanted), parseAddonVersion(candidate))).toBe(expected);
  });

  it('minorIndex orders minors across major boundaries', () => {
    expect(minorIndex(parseAddonVersion('v1.14.0'))).toBe(1014);
    expect(minorIndex(parseAddonVersion('v2.0.0'))).toBeGreaterThan(minorIndex(parseAddonVersion('v1.99.0')));
  });
});

describe('Kubernetes versions', () => {
  it.each([['1.30', '1.30'], ['v1.27', '1.27'], [' 1.9 ', '1.9']])('%j → %s', (text, expected) => {
    expect(formatKubernetesVersion(text)).toBe(expected);
  });
  it.each(['1.30.1', 'latest', '', '1'])('rejects %j', (text) => {
    expect(() => parseKubernetesVersion(text)).toThrow(`"${text}" is not a Kubernetes version; use major.minor, for example 1.30.`);
  });
});

describe('properties', () => {
  const version = fc.record({
    major: fc.nat(999),
    minor: fc.nat(999),
    patch: fc.nat(999),
    build: fc.option(fc.nat(999), { nil: null }),
  });

  it('format(parse(x)) round-trips and parse(format(v)) is v', () => {
    fc.assert(
      fc.property(version, (v) => {
        const text = formatAddonVersion(v);
        expect(parseAddonVersion(text)).toEqual(v);
        expect(formatAddonVersion(parseAddonVersion(text))).toBe(text);
        expect(formatAddonVersion(parseAddonVersion(text.slice(1)))).toBe(text);
      }),
    );
  });

  it('comparison is antisymmetric and a build sorts after no build', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const ab = compareVersionStrings(formatAddonVersion(a), formatAddonVersion(b));
        const ba = compareVersionStrings(formatAddonVersion(b), formatAddonVersion(a));
        expect(Math.sign(ab)).toBe(-Math.sign(ba));
        const plain = { ...a, build: null };
        const built = { ...a, build: a.build ?? 0 };
        expect(compareVersionStrings(formatAddonVersion(plain), formatAddonVersion(built))).toBeLessThan(0);
      }),
    );
  });
});
