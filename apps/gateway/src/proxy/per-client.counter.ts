/**
 * How many of something (connections, uploads) each client holds at once,
 * against a cap. A client's entry goes when it holds nothing, so the map
 * only ever has the clients active right now.
 */
export class PerClientCounter {
  private readonly held = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes one for `client`, or returns false (taking nothing) when it holds the cap already. */
  tryTake(client: string): boolean {
    const count = this.held.get(client) ?? 0;
    if (count >= this.max) return false;
    this.held.set(client, count + 1);
    return true;
  }

  /** Gives back one that `client` took. */
  release(client: string): void {
    const count = this.held.get(client);
    if (count === undefined) return;
    if (count <= 1) this.held.delete(client);
    else this.held.set(client, count - 1);
  }
}
