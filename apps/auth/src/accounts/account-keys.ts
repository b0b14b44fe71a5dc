/**
 * The contract's layout (section 7) and the private keys beside it:
 *   users:              hash    lower-cased login → user id
 *   user:id:            string  the last id handed out (INCR)
 *   user:<id>           hash    login, id, name, followers, following, posts, signup — nothing secret
 *   user:<id>:password  string  the Argon2id hash (PHC string) of the password
 *   user:<id>:roles     set     role names, e.g. admin
 */
export const LOGINS_KEY = 'users:';
export const USER_ID_COUNTER_KEY = 'user:id:';
export const profileKey = (id: string): string => `user:${id}`;
export const passwordKey = (id: string): string => `user:${id}:password`;
export const rolesKey = (id: string): string => `user:${id}:roles`;
/** The lock taken on a lower-cased login while its account is created. */
export const loginLockResource = (lowerCasedLogin: string): string => `user:${lowerCasedLogin}`;
