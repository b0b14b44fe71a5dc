import 'reflect-metadata';
import { runApp } from '@lattice/http';
import { RealtimeModule } from './realtime.module';

void runApp('realtime', (config) => RealtimeModule.forRoot(config));
