import { loadConfig } from '@lattice/config';
import { controllersOf, PlatformModule } from '@lattice/http';
import { AuthModule } from './auth.module';
import { AUTH_CONTROLLERS } from './auth.openapi';

describe('AUTH_CONTROLLERS', () => {
  it("is every controller of the auth app's own (the gateway's document describes these)", async () => {
    const config = loadConfig('auth', {});
    const platform = new Set(await controllersOf(PlatformModule.forRoot(config)));
    const registered = (await controllersOf(AuthModule.forRoot(config))).filter(
      (controller) => !platform.has(controller),
    );
    expect(new Set(registered)).toEqual(new Set(AUTH_CONTROLLERS));
  });
});
