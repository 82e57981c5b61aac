/**
 * The doctor checks, in the order their findings are ranked within one severity. Adding a check is
 * adding a row (and a module).
 */
import { clusterCheck } from './cluster.js';
import { configCheck } from './config.js';
import { dnsCheck } from './dns.js';
import { httpCheck } from './http.js';
import { keepaliveCheck } from './keepalive.js';
import { listenersCheck } from './listeners.js';
import { resourcesCheck } from './resources.js';
import type { DoctorCheck } from './shared.js';
import { tcpCheck } from './tcp.js';
import { tlsCheck } from './tls.js';
import { unixCheck } from './unix.js';

export type { CheckContext, DoctorCheck } from './shared.js';

export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  configCheck,
  dnsCheck,
  tcpCheck,
  unixCheck,
  tlsCheck,
  httpCheck,
  keepaliveCheck,
  listenersCheck,
  resourcesCheck,
  clusterCheck,
];
