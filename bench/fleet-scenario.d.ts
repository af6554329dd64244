// Types of bench/fleet-scenario.js, for the test that imports it.
export declare const ACCOUNTS: string[];
export declare const REGIONS: string[];
export declare function fleetScenarioYaml(clusters: number, prefix: string): string;
