import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { Roles } from '@lattice/session';
import { UserIdParams } from '../accounts/account.dto';
import { adminUserSchema, ListUsersQuery, RolesBody, userPageSchema } from './admin.dto';
import type { AdminUserView, UserPage } from './admin.types';
import { UsersAdminService } from './users-admin.service';

/** Administration of accounts (CONTRACT 8.2): the admin role only. */
@ApiTags('admin')
@ApiSession({ roles: ['admin'] })
@ApiErrors(400, 429)
@Controller('auth/users')
@Roles('admin')
export class UsersAdminController {
  constructor(private readonly users: UsersAdminService) {}

  @Get()
  @ApiOperation({
    summary: 'List users',
    description:
      'In order of lower-cased login, from an index kept in Redis; `prefix` searches logins by their start, ignoring case. Pass `nextCursor` as `cursor` for the next page.',
  })
  @ApiAnswer(200, userPageSchema, 'A page of users')
  list(@Query() query: ListUsersQuery): Promise<UserPage> {
    return this.users.list(query.prefix ?? '', query.cursor, query.limit);
  }

  @Get(':userId')
  @ApiOperation({ summary: 'One user' })
  @ApiAnswer(200, adminUserSchema, 'The user, and whether the account is suspended')
  @ApiError(404, 'NOT_FOUND', 'no such user')
  get(@Param() params: UserIdParams): Promise<AdminUserView> {
    return this.users.get(params.userId);
  }

  @Put(':userId/roles')
  @ApiOperation({
    summary: "Replace a user's roles",
    description:
      'Every session of the user carries the new roles on every instance before the answer; the sessions and their sockets stay.',
  })
  @ApiAnswer(200, adminUserSchema, 'The user with its new roles')
  @ApiError(404, 'NOT_FOUND', 'no such user')
  @ApiError(409, 'LAST_ADMIN', 'it would leave no active (not suspended) admin')
  @ApiErrors(503)
  setRoles(@Param() params: UserIdParams, @Body() body: RolesBody): Promise<AdminUserView> {
    return this.users.setRoles(params.userId, body.roles);
  }

  @Post(':userId/suspend')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Suspend a user',
    description:
      'Every session of the user ends on every instance before the answer, and its sockets close; a login with the right password then answers 403 ACCOUNT_SUSPENDED (with a wrong one, the usual 401).',
  })
  @ApiAnswer(204, null, 'Suspended (again, for an account already suspended)')
  @ApiError(404, 'NOT_FOUND', 'no such user')
  @ApiError(409, 'LAST_ADMIN', 'the user is the last active admin')
  @ApiErrors(503)
  async suspend(@Param() params: UserIdParams): Promise<void> {
    await this.users.suspend(params.userId);
  }

  @Post(':userId/reactivate')
  @HttpCode(204)
  @ApiOperation({ summary: 'Lift a suspension' })
  @ApiAnswer(204, null, 'The user may sign in again')
  @ApiError(404, 'NOT_FOUND', 'no such user')
  async reactivate(@Param() params: UserIdParams): Promise<void> {
    await this.users.reactivate(params.userId);
  }
}
