import { loadConfig } from '@lattice/config';
import { controllersOf, DocsModule, PlatformModule } from '@lattice/http';
import { AuthModule } from './auth.module';
import { AUTH_CONTROLLERS, AUTH_DOCUMENT } from './auth.openapi';

describe('AUTH_CONTROLLERS', () => {
  it("is every controller of the auth app's own (those under /auth, which the gateway forwards)", async () => {
    const config = loadConfig('auth', {});
    const platform = new Set([
      ...(await controllersOf(PlatformModule.forRoot(config))),
      ...(await controllersOf(DocsModule.forRoot(AUTH_DOCUMENT))),
    ]);
    const registered = (await controllersOf(AuthModule.forRoot(config))).filter(
      (controller) => !platform.has(controller),
    );
    expect(new Set(registered)).toEqual(new Set(AUTH_CONTROLLERS));
  });
});
