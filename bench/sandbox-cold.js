// Cold start (issue 9): in a fresh Node process each run, (1) import of the sandbox module + the first
// startSandbox('default'), wall and the process's CPU, and (2) `node bin/vpccni.js --sandbox status`, wall and
// CPU (user + sys, from /usr/bin/time). Medians of N interleaved runs per checkout, so that two checkouts
// (e.g. before/after: a `git worktree` of the older commit, built) see the same machine load.
// Usage: npm run build && node bench/sandbox-cold.js [runs] [other-checkout …]
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const roots = [fileURLToPath(new URL('..', import.meta.url)), ...process.argv.slice(3)];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const coldScript = `
const t0 = performance.now();
const { startSandbox } = await import(process.argv[1] + '/dist/sandbox/index.js');
const t1 = performance.now();
const sb = await startSandbox('default');
const t2 = performance.now();
await sb.close();
const cpu = process.cpuUsage();
console.log(JSON.stringify({ importMs: t1 - t0, startMs: t2 - t1, wallMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));`;

function cold(root) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', coldScript, root], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1));
}

function status(root) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, `${root}/bin/vpccni.js`, '--sandbox', 'status'], { encoding: 'utf8' });
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wallMs: wall * 1000, cpuMs: (user + sys) * 1000 };
}

const results = new Map(roots.map((root) => [root, { cold: [], status: [] }]));
for (let i = 0; i < runs; i++) {
  for (const root of roots) {
    results.get(root).cold.push(cold(root));
    results.get(root).status.push(status(root));
  }
}
const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
console.log(`${new Date().toISOString()}, ${runs} interleaved runs, load average ${load}`);
console.log('| checkout | import (ms) | first startSandbox (ms) | cold wall (ms) | cold CPU (ms) | --sandbox status wall (ms) | status CPU (ms) |');
console.log('|---|---|---|---|---|---|---|');
for (const [root, r] of results) {
  const m = (xs, key) => median(xs.map((x) => x[key])).toFixed(0);
  console.log(`| ${root} | ${m(r.cold, 'importMs')} | ${m(r.cold, 'startMs')} | ${m(r.cold, 'wallMs')} | ${m(r.cold, 'cpuMs')} | ${m(r.status, 'wallMs')} | ${m(r.status, 'cpuMs')} |`);
}
