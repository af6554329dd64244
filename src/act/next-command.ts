/**
 * The words of the commands an exit-4 stop ends with (`continue: …; go back: …`): shell quoting and the
 * cluster flags (`--context`, `--cluster`, `--region`) of the run, shared by upgrade (./upgrade/stop.ts) and
 * restore (./restore.ts).
 */
import type { Runtime } from '../runtime.js';

/** A word for the shell: quoted when it holds anything but safe characters. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `--context <c> --cluster <name> --region <r>`: the cluster the run had, as flags (the context only when one was used). */
export function clusterFlags(runtime: Pick<Runtime, 'kubeContext' | 'clusterName' | 'region'>): string {
  return [...(runtime.kubeContext ? ['--context', runtime.kubeContext.name] : []), '--cluster', runtime.clusterName, '--region', runtime.region].map(shellWord).join(' ');
}
