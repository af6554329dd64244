/**
 * The add-on's settings model (see compare.ts for the rules): flatten an install into settings
 * (`settingLeaves`), compare a live install with its baseline and decide each difference's fate when EKS
 * applies a target (`compareSettings`), and the baselines to compare against (`baselines.ts`).
 */
export * from './compare.js';
export * from './baselines.js';
