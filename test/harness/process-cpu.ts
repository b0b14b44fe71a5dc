import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) a process has used so far, in µs (Linux), for benchmarks. */
export function cpuTimeUs(pid: number): number {
  // Fields after the command name: state is the 3rd field of stat, utime and stime the 14th and 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
}
