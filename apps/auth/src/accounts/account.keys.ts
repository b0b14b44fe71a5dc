import { accountKey, sessionIndexKey } from '@lattice/session';

/**
 * The contract's layout (section 7) and the private keys beside it:
 *   users:              hash    lower-cased login → user id
 *   user:id:            string  the last id handed out (INCR)
 *   user:<id>           hash    login, id, name, followers, following, posts, signup — nothing
 *                               secret — and gen, the account's generation (random, set once
 *                               when the account is created)
 *   user:<id>:password  string  the Argon2id hash (PHC string) of the password
 *   user:<id>:roles     set     role names, e.g. admin
 *   user:<id>:password-reset  hash  hash (sha256 of the reset token's secret, hex), gen;
 *                               PEXPIRE'd: the one outstanding admin-issued reset token
 *   user:<id>:totp      hash    the second factor (docs/accounts.md): secret (base32), step
 *                               (the last time step whose code was accepted), since
 *   user:<id>:totp:pending string the secret of an enrolment not yet confirmed; TTL 10 min
 *   user:<id>:recovery  set     SHA-256 (hex) of each unused recovery code
 *   user:<id>:verifications set `<network>:<address>` of each verification challenge the user
 *                               started (some may since have expired or been restarted by
 *                               another user); TTL: VERIFICATION_TTL after the latest
 *   mfa:challenge:<sha256 of the challenge>  hash  user, gen, pw, attempts; TTL 5 min
 *
 * On Redis Cluster the private keys are `{<prefix>user:<id>}:password`,
 * `{<prefix>user:<id>}:roles` and so on: the tag is the profile key's full name
 * (KEY_PREFIX included, as Redis hashes the whole name of an untagged key),
 * so they share a slot and an account is written in one script. The
 * profile key keeps its contract name, which other programs read.
 */
export const LOGINS_KEY = 'users:';

/**
 * The user directory, for administration: always in the one hash tag
 * `{users}`, so that a script changes them together (on Redis Cluster too).
 *   {users}:logins     zset    lower-cased logins, all scored 0 (ZRANGEBYLEX for prefix search)
 *   {users}:admins     set     ids of the accounts with the `admin` role
 *   {users}:suspended  set     ids of the suspended accounts
 *   {users}:indexed    string  `1` once the directory holds every account that existed before it
 */
export const DIRECTORY_LOGINS_KEY = '{users}:logins';
export const DIRECTORY_ADMINS_KEY = '{users}:admins';
export const DIRECTORY_SUSPENDED_KEY = '{users}:suspended';
export const DIRECTORY_INDEXED_KEY = '{users}:indexed';
/** The role whose holders the directory counts, so that one always remains. */
export const ADMIN_ROLE = 'admin';
export const USER_ID_COUNTER_KEY = 'user:id:';
/** The lock taken on a lower-cased login while its account is created. */
export const loginLockResource = (lowerCasedLogin: string): string => `user:${lowerCasedLogin}`;
/** How long the login lock is held at most while one account is written or removed. */
export const LOGIN_LOCK_TTL_MS = 5_000;
/** The SCAN pattern that finds every profile key (and, standalone, its private keys). */
export const ACCOUNT_KEYS_PATTERN = 'user:*';
/** The user id in a key found with ACCOUNT_KEYS_PATTERN, or null for other keys (`user:id:`). */
export const mfaChallengeKey = (challengeHash: string): string => `mfa:challenge:${challengeHash}`;

export function userIdOfKey(key: string): number | null {
  const match = /^user:([1-9][0-9]{0,15})(?::|$)/.exec(key);
  return match ? Number(match[1]) : null;
}

export class AccountKeys {
  /** `user:<id>`, the contract's profile hash. */
  readonly profile: string;
  readonly password: string;
  readonly roles: string;
  readonly passwordReset: string;
  readonly totp: string;
  readonly totpPending: string;
  readonly recovery: string;
  readonly verifications: string;
  /** The user's session index (libs/session): one more key that says the id was given before. */
  readonly sessionIndex: string;

  constructor(id: string, cluster: { isCluster: boolean; keyPrefix: string }) {
    this.profile = accountKey(id);
    const base = cluster.isCluster ? `{${cluster.keyPrefix}${this.profile}}` : this.profile;
    this.password = `${base}:password`;
    this.roles = `${base}:roles`;
    this.passwordReset = `${base}:password-reset`;
    this.totp = `${base}:totp`;
    this.totpPending = `${base}:totp:pending`;
    this.recovery = `${base}:recovery`;
    this.verifications = `${base}:verifications`;
    this.sessionIndex = sessionIndexKey(id);
  }

  /** Every key of the account, one slot: profile first (the scripts' KEYS[1..3] are profile, password, roles). */
  get account(): string[] {
    return [
      this.profile,
      this.password,
      this.roles,
      this.passwordReset,
      this.totp,
      this.totpPending,
      this.recovery,
      this.verifications,
    ];
  }
}
