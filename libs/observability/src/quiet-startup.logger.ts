import { Injectable } from '@nestjs/common';
import { Logger } from 'nestjs-pino';

/**
 * Where Nest logs its start-up inventory at `log` level: one line per module
 * initialised and per route mapped.
 */
const STARTUP_INVENTORY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * Nest's logger for the apps: nestjs-pino's, except that Nest's start-up
 * inventory ("Mapped {/auth/login, POST} route", "X dependencies
 * initialized") is logged at `debug`, so the default level shows only what
 * the apps themselves say.
 */
@Injectable()
export class QuietStartupLogger extends Logger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && STARTUP_INVENTORY_CONTEXTS.has(context)) {
      this.debug(message, ...optionalParams);
    } else {
      super.log(message, ...optionalParams);
    }
  }
}
