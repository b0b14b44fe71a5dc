import 'reflect-metadata';
import { runApp } from '@lattice/http';
import { AuthModule } from './auth.module';

void runApp('auth', (config) => AuthModule.forRoot(config));
