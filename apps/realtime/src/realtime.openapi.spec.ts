import { loadConfig } from '@lattice/config';
import { controllersOf, DocsModule, PlatformModule } from '@lattice/http';
import { RealtimeModule } from './realtime.module';
import { REALTIME_CONTROLLERS, REALTIME_DOCUMENT } from './realtime.openapi';

describe('REALTIME_CONTROLLERS', () => {
  it("is every HTTP controller of the realtime app's own (those under /realtime, which the gateway forwards)", async () => {
    const config = loadConfig('realtime', {});
    const platform = new Set([
      ...(await controllersOf(PlatformModule.forRoot(config))),
      ...(await controllersOf(DocsModule.forRoot(REALTIME_DOCUMENT))),
    ]);
    const registered = (await controllersOf(RealtimeModule.forRoot(config))).filter(
      (controller) => !platform.has(controller),
    );
    expect(new Set(registered)).toEqual(new Set(REALTIME_CONTROLLERS));
  });
});
