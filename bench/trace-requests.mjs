// Prints, when the process exits, every HTTP(S) request it made: start and end (ms since this module was
// loaded), method, host and path, in the order they started; the dependent round trips of a command can
// be read off it. Node's own diagnostics channels, so nothing in vpccni changes:
//   node --import ./bench/trace-requests.mjs bin/vpccni.js --cluster demo --kubeconfig … status
import dc from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const started = new WeakMap();
const done = [];
dc.subscribe('http.client.request.start', ({ request }) => started.set(request, performance.now() - t0));
dc.subscribe('http.client.response.finish', ({ request }) => {
  done.push([started.get(request) ?? NaN, performance.now() - t0, request.method, `${request.host}${request.path.slice(0, 100)}`]);
});
process.on('exit', () => {
  for (const [start, end, method, where] of done.sort((a, b) => a[0] - b[0])) {
    process.stderr.write(`${start.toFixed(0).padStart(6)} ${end.toFixed(0).padStart(6)} ${method} ${where}\n`);
  }
  process.stderr.write(`exit ${(performance.now() - t0).toFixed(0)}\n`);
});
