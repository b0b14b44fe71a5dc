import { Injectable, type OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';

/** OWASP's recommended Argon2id parameters: 19 MiB, two passes, one lane. */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when a login is unknown, so that answer takes as long as a wrong password. */
  private decoy = '';

  async onModuleInit(): Promise<void> {
    this.decoy = await argon2.hash('lattice-decoy-password', OPTIONS);
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, OPTIONS);
  }

  /** False for a wrong password; with no hash, spends the same time and returns false. */
  async verify(hash: string | null, password: string): Promise<boolean> {
    try {
      const ok = await argon2.verify(hash ?? this.decoy, password);
      return hash !== null && ok;
    } catch {
      return false;
    }
  }
}
