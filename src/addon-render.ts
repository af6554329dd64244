/**
 * How EKS renders the add-on for a version and configuration values: the upstream DaemonSet with the values
 * applied. The sandbox applies it; `upgrade` uses it to show what OVERWRITE would reset.
 */
export { desiredDaemonSet, type ConfigurationValues } from './sandbox/addon-controller.js';
