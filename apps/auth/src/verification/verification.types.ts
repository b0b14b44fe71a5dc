import type { MediaType } from './verification.keys';

export type VerificationStatus = 'Pending' | 'Done';

export interface MediumState {
  type: MediaType;
  name: string;
  status: VerificationStatus;
  /** Only for the challenge's owner. */
  token?: string;
}

/** The contract's challenge state (section 4.2). */
export interface VerificationState {
  network: string;
  address: string;
  status: VerificationStatus;
  createdAt: string;
  updatedAt: string;
  media: MediumState[];
}
