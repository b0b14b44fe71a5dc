/**
 * Wraps `task` (a read of some shared state) so that one run goes at a time,
 * and a call made while a run is under way makes it run once more after it:
 * every caller's promise settles after a run that started after its call, so
 * it sees what was true when it asked. Calls made meanwhile share that one
 * extra run.
 */
export function rerunning(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await task();
        } while (again);
      } finally {
        // Here rather than in a .finally() callback, which runs a turn later: a call
        // made in between would be handed this finished run and never be read for.
        running = undefined;
      }
    })();
    return running;
  };
}
