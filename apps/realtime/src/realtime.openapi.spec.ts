import { loadConfig } from '@lattice/config';
import { controllersOf, PlatformModule } from '@lattice/http';
import { RealtimeModule } from './realtime.module';
import { REALTIME_CONTROLLERS } from './realtime.openapi';

describe('REALTIME_CONTROLLERS', () => {
  it("is every HTTP controller of the realtime app's own (the gateway's document describes these)", async () => {
    const config = loadConfig('realtime', {});
    const platform = new Set(await controllersOf(PlatformModule.forRoot(config)));
    const registered = (await controllersOf(RealtimeModule.forRoot(config))).filter(
      (controller) => !platform.has(controller),
    );
    expect(new Set(registered)).toEqual(new Set(REALTIME_CONTROLLERS));
  });
});
