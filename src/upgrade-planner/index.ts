/** The pure upgrade planner: versions, catalogue look-ups, advisories and paths. */
export * from './version.js';
export * from './catalogue.js';
export * from './advisories.js';
export * from './plan.js';
