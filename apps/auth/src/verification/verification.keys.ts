export const MEDIA_TYPES = ['discord', 'twitter', 'matrix', 'email', 'web', 'github'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/**
 * The contract's layout (section 7):
 *   <network>:<address>         hash  status, created_at, updated_at, media_types (comma list)
 *   <network>:<address>:<type>  hash  name, status, token
 * and beside it
 *   <network>:<address>:owner   string  the id of the user who started the challenge
 * On Redis Cluster the `<network>:<address>` part is wrapped in a hash tag,
 * `{<network>:<address>}`, so a challenge's keys share a slot and its scripts
 * run there. Addresses contain no `:`, and `owner` is no media type, so no two
 * challenges' keys can collide.
 */
export class VerificationKeys {
  readonly account: string;
  readonly owner: string;
  /** One key per media type, in MEDIA_TYPES order, whether or not the challenge has it. */
  readonly media: string[];

  constructor(network: string, address: string, clustered: boolean) {
    const base = clustered ? `{${network}:${address}}` : `${network}:${address}`;
    this.account = base;
    this.owner = `${base}:owner`;
    this.media = MEDIA_TYPES.map((type) => `${base}:${type}`);
  }

  /** Every key of the challenge: account, owner, then the media. */
  get all(): string[] {
    return [this.account, this.owner, ...this.media];
  }
}
