/**
 * The ingress-nginx controller's own log (klog: "W0426 21:51:57.908771       9 controller.go:1112]
 * MESSAGE"), for the messages that explain 503s: a Service without a ready endpoint, and the Lua
 * balancer finding no peer. The access and error lines of its nginx are read by nginx-access.ts and
 * nginx-error.ts.
 */
import type { Finding, LineInput, Recogniser } from './types.js';

const KLOG = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [\w.-]+:\d+\] (.*)$/;

function recognise(input: LineInput): Finding | undefined {
  const m = KLOG.exec(input.line);
  if (!m) return undefined;
  const message = m[1]!;
  const service = /[Ss]ervice "?([\w.-]+\/[\w.-]+)"? does not have any active [Ee]ndpoint/.exec(message);
  if (service) {
    return {
      source: 'ingress_nginx',
      error: 'destination_unavailable',
      cause: 'backend_down',
      upstream: service[1]!,
      target: '',
      why: `Service ${service[1]} has no ready endpoint: its pods are not ready, not running, or scaled to zero; requests get 503`,
      also: [
        {
          cause: 'wrong_upstream_address',
          why: "the Service selector may not match the pods' labels, or targetPort names no container port",
        },
      ],
      checks: [
        {
          what: 'Endpoints of the Service',
          command: `kubectl get endpointslices -n ${service[1]!.split('/')[0]} -l kubernetes.io/service-name=${service[1]!.split('/')[1]}`,
        },
        {
          what: 'Selector against pod labels',
          command: `kubectl describe service -n ${service[1]!.split('/')[0]} ${service[1]!.split('/')[1]}; kubectl get pods -n ${service[1]!.split('/')[0]} --show-labels`,
        },
      ],
      summary: `Service ${service[1]} has no active endpoint (503 until pods are ready)`,
      confidence: 'high',
    };
  }
  // Other klog lines may come from any Kubernetes component: leave them to the unknown explainer.
  return undefined;
}

export const ingressNginxController: Recogniser = { source: 'ingress_nginx', recognise };
