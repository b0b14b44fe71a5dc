// The lines `npm start` prints once the three apps are ready: where to go next.
/* global fetch -- Node's own, as in the browser */
import { setTimeout as sleep } from 'node:timers/promises';

const READY_POLL_MS = 250;

/** Resolves once GET /health/ready of every URL answers 200; polls until then. */
export async function allReady(baseUrls, isStopping) {
  for (const base of baseUrls) {
    while (!isStopping()) {
      try {
        const response = await fetch(`${base}/health/ready`);
        await response.arrayBuffer();
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      await sleep(READY_POLL_MS);
    }
  }
  return !isStopping();
}

export function banner({ gatewayUrl, redisSummary, adminLogin }) {
  const admin = adminLogin
    ? `${adminLogin} (from ADMIN_LOGIN and ADMIN_PASSWORD)`
    : 'set ADMIN_LOGIN and ADMIN_PASSWORD (8+ characters) and start again';
  return [
    '',
    'lattice: ready',
    `  gateway          ${gatewayUrl}`,
    `  API docs         ${gatewayUrl}/docs`,
    `  draw pages       ${gatewayUrl}/draw  (admin: ${gatewayUrl}/draw/admin)`,
    `  data             ${redisSummary}`,
    `  admin account    ${admin}`,
    '  stop             Ctrl-C',
    '',
  ].join('\n');
}
