/**
 * The sandbox's own reading of add-on versions (`v1.14.0-eksbuild.3`, `v1.14.0`, `1.14.0`), kept apart from the
 * product's planner so that the witness shares no decision with what it judges. As EKS orders them:
 * major.minor.patch first, then the build number numerically, a missing build before any build.
 */

/** A parsed add-on version; `build` is null for a plain `v1.14.0`. */
export interface SandboxVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly build: number | null;
}

const PATTERN = /^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:-eksbuild\.(\d{1,6}))?$/;

/** The version, or null when the text is not one. */
export function parseVersion(text: string): SandboxVersion | null {
  const match = PATTERN.exec(text.trim());
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), build: match[4] === undefined ? null : Number(match[4]) };
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: SandboxVersion, b: SandboxVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || (a.build ?? -1) - (b.build ?? -1);
}

/** Orders two version strings; a text that is not a version sorts before every version (and by text among those). */
export function compareVersionTexts(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (pa && pb) return compareVersions(pa, pb);
  if (!pa && !pb) return a < b ? -1 : a > b ? 1 : 0;
  return pa ? 1 : -1;
}

/** How many minor versions lie between two versions (0 within one minor line). */
export function minorDistance(a: SandboxVersion, b: SandboxVersion): number {
  return Math.abs((a.major * 1000 + a.minor) - (b.major * 1000 + b.minor));
}
