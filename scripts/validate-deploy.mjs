#!/usr/bin/env node
// Validates the Kubernetes manifests: every document against the Kubernetes
// API schema (kubernetes-models), then the rules the platform depends on —
// probes on the health endpoints, ports that match the apps, a termination
// grace longer than preStop + SHUTDOWN_DELAY_MS + the apps' 25 s drain, an
// autoscaled gateway, and /socket.io/ routed by an Ingress.
// Usage: node scripts/validate-deploy.mjs [directory]   (default: deploy/)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';

const MODELS = {
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'networking.k8s.io/v1': networkingV1,
  'policy/v1': policyV1,
  v1: coreV1,
};
const PORTS = { gateway: 3000, auth: 3001, realtime: 3002 };
const APP_DRAIN_LIMIT_S = 25;

const dir = process.argv[2] ?? join(import.meta.dirname, '..', 'deploy');
const problems = [];
const objects = [];

for (const file of readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
    if (doc.errors.length) {
      problems.push(`${file}: ${doc.errors[0].message}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    const where = `${file}: ${object.kind ?? '?'} ${object.metadata?.name ?? ''}`.trim();
    if (object.kind === 'Kustomization') {
      for (const resource of object.resources ?? []) {
        if (!readdirSync(dir).includes(resource))
          problems.push(`${where}: lists missing ${resource}`);
      }
      continue;
    }
    const Model = MODELS[object.apiVersion]?.[object.kind];
    if (!Model) {
      problems.push(`${where}: unknown apiVersion/kind ${object.apiVersion}/${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${where}: ${error.message}`);
      continue;
    }
    objects.push({ where, object });
  }
}

const envOf = (name) => {
  const config = objects.find((o) => o.object.kind === 'ConfigMap')?.object.data ?? {};
  return config[name];
};

for (const { where, object } of objects) {
  if (object.kind === 'Deployment') {
    const app = object.metadata.name.replace(/^lattice-/, '');
    const spec = object.spec.template.spec;
    const container = spec.containers[0];
    const port = container.ports?.[0]?.containerPort;
    if (PORTS[app] === undefined) problems.push(`${where}: not one of the apps`);
    if (port !== PORTS[app])
      problems.push(`${where}: containerPort ${port}, the app listens on ${PORTS[app]}`);
    const portEnv = container.env?.find((e) => e.name === 'PORT')?.value;
    if (Number(portEnv) !== PORTS[app]) problems.push(`${where}: PORT is ${portEnv}`);
    if (!container.command?.join(' ').includes(`dist/apps/${app}/main.js`)) {
      problems.push(`${where}: does not run dist/apps/${app}/main.js`);
    }
    if (container.livenessProbe?.httpGet?.path !== '/health/live') {
      problems.push(`${where}: liveness must be GET /health/live`);
    }
    if (container.readinessProbe?.httpGet?.path !== '/health/ready') {
      problems.push(`${where}: readiness must be GET /health/ready`);
    }
    if (!container.resources?.requests?.cpu || !container.resources?.requests?.memory) {
      problems.push(`${where}: needs cpu and memory requests`);
    }
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    const preStopS = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    const delayS = Number(envOf('SHUTDOWN_DELAY_MS') ?? 0) / 1000;
    const needed = preStopS + delayS + APP_DRAIN_LIMIT_S;
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    if (grace <= needed) {
      problems.push(
        `${where}: terminationGracePeriodSeconds ${grace} must exceed preStop ${preStopS} s + SHUTDOWN_DELAY_MS ${delayS} s + ${APP_DRAIN_LIMIT_S} s of drain`,
      );
    }
  }
}

const hpa = objects.find((o) => o.object.kind === 'HorizontalPodAutoscaler');
if (hpa?.object.spec.scaleTargetRef.name !== 'lattice-gateway') {
  problems.push('no HorizontalPodAutoscaler scales lattice-gateway');
}
const ingressPaths = objects
  .filter((o) => o.object.kind === 'Ingress')
  .flatMap((o) => o.object.spec.rules.flatMap((r) => r.http.paths));
for (const path of ['/', '/socket.io/']) {
  const route = ingressPaths.find((p) => p.path === path);
  if (route?.backend.service.name !== 'lattice-gateway') {
    problems.push(`no Ingress sends ${path} to lattice-gateway`);
  }
}
for (const name of ['AUTH_URL', 'REALTIME_URL']) {
  const url = envOf(name);
  const service = objects.find(
    (o) => o.object.kind === 'Service' && url?.startsWith(`http://${o.object.metadata.name}:`),
  );
  if (!service) problems.push(`ConfigMap ${name} (${url}) names no Service`);
}

if (problems.length) {
  for (const problem of problems) console.error(`deploy: ${problem}`);
  process.exit(1);
}
console.log(`deploy: ${objects.length} objects valid in ${dir}`);
