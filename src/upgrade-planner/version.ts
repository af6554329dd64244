/**
 * The one place add-on versions are parsed and compared.
 *
 * `v1.14.0-eksbuild.3`, `v1.14.0` and `1.14.0` are one release line. semver would read `-eksbuild.3` as a
 * pre-release (so `v1.14.0-eksbuild.3 < v1.14.0`), and eksctl once compared `eksbuild.2` and `eksbuild.20`
 * as strings; here major.minor.patch compare first, then the build number numerically, a missing build
 * sorting before any build.
 */
import { UsageError } from '../errors.js';

/** A parsed add-on version. `build` is null for a plain `v1.14.0` (self-managed installs). */
export interface AddonVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly build: number | null;
}

const VERSION_PATTERN = /^v?(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})(?:-eksbuild\.(0|[1-9]\d{0,5}))?$/;

/** Parses a version, or returns null when the text is not one. */
export function tryParseAddonVersion(text: string): AddonVersion | null {
  const match = VERSION_PATTERN.exec(text.trim());
  if (!match) return null;
  const [, major, minor, patch, build] = match;
  return {
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    build: build === undefined ? null : Number(build),
  };
}

/** Parses a version; throws a UsageError that says what a version looks like. */
export function parseAddonVersion(text: string): AddonVersion {
  const parsed = tryParseAddonVersion(text);
  if (!parsed) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new UsageError(
      `"${shown}" is not an add-on version; use the form v1.14.0-eksbuild.3 (or v1.14.0, 1.14.0).`,
    );
  }
  return parsed;
}

/** Formats a version the way EKS spells it: `v1.14.0-eksbuild.3`, or `v1.14.0` without a build. */
export function formatAddonVersion(version: AddonVersion): string {
  const base = `v${version.major}.${version.minor}.${version.patch}`;
  return version.build === null ? base : `${base}-eksbuild.${version.build}`;
}

/** Orders two versions: negative when a < b, 0 when equal, positive when a > b. */
export function compareAddonVersions(a: AddonVersion, b: AddonVersion): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    (a.build ?? -1) - (b.build ?? -1)
  );
}

/** Orders two version strings (both must parse). */
export function compareVersionStrings(a: string, b: string): number {
  return compareAddonVersions(parseAddonVersion(a), parseAddonVersion(b));
}

/** The minor line of a version as a comparable index (major * 1000 + minor). */
export function minorIndex(version: AddonVersion): number {
  return version.major * 1000 + version.minor;
}

/** `1.14` for v1.14.0-eksbuild.3. */
export function minorLabel(version: AddonVersion): string {
  return `${version.major}.${version.minor}`;
}

/** True when both name the same release (major.minor.patch), whatever the builds. */
export function sameRelease(a: AddonVersion, b: AddonVersion): boolean {
  return a.major === b.major && a.minor === b.minor && a.patch === b.patch;
}

/**
 * True when `wanted` names `candidate`: exactly when `wanted` has a build, or by release when it has none
 * (`v1.14.0` matches any `v1.14.0-eksbuild.N`).
 */
export function versionMatches(wanted: AddonVersion, candidate: AddonVersion): boolean {
  if (!sameRelease(wanted, candidate)) return false;
  return wanted.build === null || wanted.build === candidate.build;
}

/** Parses a Kubernetes minor version such as `1.30`; throws a UsageError otherwise. */
export function parseKubernetesVersion(text: string): { major: number; minor: number } {
  const match = /^v?(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`"${text}" is not a Kubernetes version; use major.minor, for example 1.30.`);
  }
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/** Normalises a Kubernetes version to `major.minor` (`v1.30` → `1.30`). */
export function formatKubernetesVersion(text: string): string {
  const { major, minor } = parseKubernetesVersion(text);
  return `${major}.${minor}`;
}
