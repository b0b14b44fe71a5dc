/** The contract's `user` object. */
export interface UserProfile {
  id: string;
  login: string;
  name: string;
  roles: string[];
  /** ISO 8601; stored as Unix seconds in `user:<id>`, as in the hash layout it comes from. */
  signup: string;
  followers: number;
  following: number;
  posts: number;
}
