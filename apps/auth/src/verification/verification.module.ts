import { Module } from '@nestjs/common';
import { RateLimitModule } from '@lattice/rate-limit';
import { RedisModule } from '@lattice/redis';
import { VerificationController } from './verification.controller';
import { VerificationRepository } from './verification.repository';
import { VerificationService } from './verification.service';

/**
 * Verification challenges: the routes under /auth/verifications. Exports the repository, through which deleting an
 * account removes the challenges its user owns.
 */
@Module({
  imports: [RedisModule, RateLimitModule],
  controllers: [VerificationController],
  providers: [VerificationRepository, VerificationService],
  exports: [VerificationRepository],
})
export class VerificationModule {}
