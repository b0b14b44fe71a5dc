import { Module } from '@nestjs/common';
import { LockModule } from '@lattice/lock';
import { SessionModule } from '@lattice/session';
import { AccountsModule } from '../accounts/accounts.module';
import { UsersAdminController } from './users-admin.controller';
import { UsersAdminService } from './users-admin.service';

/** Administration of users (listing, roles, suspension): the routes under /auth/users, for admins. */
@Module({
  imports: [AccountsModule, LockModule, SessionModule],
  controllers: [UsersAdminController],
  providers: [UsersAdminService],
})
export class UsersAdminModule {}
