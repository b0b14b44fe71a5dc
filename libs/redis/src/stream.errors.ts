/** Thrown by a handler for an entry that no retry can help: it is dead-lettered at once. */
export class StreamEntryRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StreamEntryRejectedError';
  }
}
