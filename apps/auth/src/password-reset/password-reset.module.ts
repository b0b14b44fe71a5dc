import { Module } from '@nestjs/common';
import { RateLimitModule } from '@lattice/rate-limit';
import { RedisModule } from '@lattice/redis';
import { SessionModule } from '@lattice/session';
import { AccountsModule } from '../accounts/accounts.module';
import { PasswordResetController } from './password-reset.controller';
import { PasswordResetRepository } from './password-reset.repository';
import { PasswordResetService } from './password-reset.service';

/** Password reset by a one-time token: an admin issues it, its holder sets a new password. */
@Module({
  imports: [AccountsModule, RedisModule, SessionModule, RateLimitModule],
  controllers: [PasswordResetController],
  providers: [PasswordResetRepository, PasswordResetService],
})
export class PasswordResetModule {}
