import 'reflect-metadata';
import { runApp } from '@lattice/http';
import { GatewayModule } from './gateway.module';

void runApp('gateway', (config) => GatewayModule.forRoot(config));
