// Bench only: preloaded into the realtime instances (with --expose-gc), so the
// benchmark can ask for a full garbage collection before reading their memory.
process.on('SIGUSR2', () => globalThis.gc && globalThis.gc());
