// Sandbox start-up: `startSandbox('default')` in process (the first start makes the cluster CA and serving
// key, later ones reuse them) and `vpccni sandbox serve` to its first stdout line. Medians of N runs.
// Usage: npm run build && node bench/sandbox-start.js [runs]
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 9);
const root = fileURLToPath(new URL('..', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
const { startSandbox } = await import(`${root}dist/sandbox/index.js`);
const importMs = performance.now() - t0;
const { clusterTls } = await import(`${root}dist/sandbox/kube-auth.js`);
const t1 = performance.now();
clusterTls();
const tlsMs = performance.now() - t1;
const inProcess = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  const sb = await startSandbox('default');
  inProcess.push(performance.now() - start);
  await sb.close();
}

function serveOnce() {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [`${root}bin/vpccni.js`, 'sandbox', 'serve', 'default'], { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: child.stdout }).once('line', () => {
      const ms = performance.now() - start;
      child.once('exit', () => resolve(ms));
      child.kill('SIGINT');
    });
    child.once('error', reject);
  });
}
const served = [];
for (let i = 0; i < runs; i++) served.push(await serveOnce());

console.log(`import of the sandbox module: ${importMs.toFixed(0)} ms`);
console.log(`cluster CA + serving certificate (ECDSA P-256, once per process): ${tlsMs.toFixed(1)} ms`);
console.log(`startSandbox('default'), first: ${inProcess[0].toFixed(0)} ms; median of ${runs}: ${median(inProcess).toFixed(0)} ms`);
console.log(`sandbox serve to its first line (new process each, CA included): median of ${runs}: ${median(served).toFixed(0)} ms, min ${Math.min(...served).toFixed(0)} ms`);
