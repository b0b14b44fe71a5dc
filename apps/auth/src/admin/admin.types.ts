import type { UserProfile } from '../accounts/account.types';

/** The contract's `user` plus whether the account is suspended, as administration sees it. */
export interface AdminUserView extends UserProfile {
  suspended: boolean;
}

export interface UserPage {
  users: AdminUserView[];
  nextCursor: string | null;
}
