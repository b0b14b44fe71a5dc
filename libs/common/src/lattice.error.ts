/**
 * Base of every error a lib throws on purpose. The `code` is stable across
 * process boundaries (unlike `instanceof`), and `status` is the HTTP status
 * the global exception filter answers with.
 */
export class LatticeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 500,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /**
   * Writes the response headers that belong with this error's answer (a
   * 429's RateLimit fields, say) on `reply`, for whoever answers with it;
   * none by default.
   */
  writeHeaders(reply: { header(name: string, value: string): unknown }): void {
    void reply;
  }
}
