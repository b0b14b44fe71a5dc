// Preloaded (NODE_OPTIONS=--require) into a process that bench:gateway profiles
// with BENCH_PROFILE=<dir>: a V8 CPU profile of the whole run, written to <dir>
// when the process exits, as `node --cpu-prof` would (Node 20 refuses
// --cpu-prof in NODE_OPTIONS, and the harness starts apps without arguments).
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.once('exit', () => {
  // A session of the process's own thread answers synchronously, so this runs before exit.
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    const file = join(process.env.BENCH_PROFILE, `${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(result.profile));
  });
});
