/**
 * Starts a whole Gatewise (gateway, admin API, logs off) from the upstreams-and-routes part of a
 * config, on ports chosen by the system, and stops it when the test ends.
 */
import type { TestContext } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import { Service } from '../../src/service.js';

export interface TestService {
  readonly service: Service;
  /** The gateway's port on 127.0.0.1. */
  readonly port: number;
  /** `http://host:port` of the admin API. */
  readonly admin: string;
}

/** `body` holds upstreams and routes (and may add an `admin:` block; a loopback one is used otherwise). */
export async function startService(t: TestContext, body: string, name = 'test.yaml'): Promise<TestService> {
  const admin = /^admin:/m.test(body) ? '' : 'admin: { address: 127.0.0.1:0 }\n';
  const service = await Service.create({
    config: parseConfigText(
      `listen: [{ address: 127.0.0.1:0 }]\n${admin}log: { access: false, level: error }\n${body}`,
      name,
    ),
  });
  await service.start();
  t.after(() => service.stop());
  const address = service.gateway.addresses()[0]!;
  return {
    service,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    admin: `http://${service.adminAddress}`,
  };
}
