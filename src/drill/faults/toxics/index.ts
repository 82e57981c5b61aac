/**
 * The toxic registry: one row per toxic type, making the stage that does its work on one
 * direction of one connection. Adding a toxic is adding a row here and its defaults in toxic.ts.
 */
import type { Stage, StageContext } from '../stage.js';
import type { Attributes, ToxicType } from '../toxic.js';
import { LimitDataStage, type LimitDataState, ResetPeerStage, SlowCloseStage, TimeoutStage } from './close.js';
import { BandwidthStage, LatencyStage, SlicerStage } from './delay.js';
import {
  GarbageStage,
  type HttpFaultState,
  HttpStatusStage,
  HugeHeaderStage,
  newHttpFaultState,
  TlsReplyStage,
} from './http.js';

export interface ToxicDefinition {
  /** State a connection keeps for this toxic from when it meets it until it closes, across updates. */
  newState(): unknown;
  create(context: StageContext, attributes: Readonly<Attributes>, state: unknown): Stage;
}

const stateless = (make: (context: StageContext, attributes: Readonly<Attributes>) => Stage): ToxicDefinition => ({
  newState: () => undefined,
  create: (context, attributes) => make(context, attributes),
});

const httpFault = (
  make: (context: StageContext, attributes: Readonly<Attributes>, state: HttpFaultState) => Stage,
): ToxicDefinition => ({
  newState: newHttpFaultState,
  create: (context, attributes, state) => make(context, attributes, state as HttpFaultState),
});

export const TOXICS: Record<ToxicType, ToxicDefinition> = {
  latency: stateless((context, attributes) => new LatencyStage(context, attributes)),
  bandwidth: stateless((context, attributes) => new BandwidthStage(context, attributes)),
  slow_close: stateless((context, attributes) => new SlowCloseStage(context, attributes)),
  timeout: stateless((context, attributes) => new TimeoutStage(context, attributes)),
  reset_peer: stateless((context, attributes) => new ResetPeerStage(context, attributes)),
  slicer: stateless((context, attributes) => new SlicerStage(context, attributes)),
  limit_data: {
    newState: (): LimitDataState => ({ transmittedBytes: 0 }),
    create: (context, attributes, state) => new LimitDataStage(context, attributes, state as LimitDataState),
  },
  http_status: httpFault((context, attributes, state) => new HttpStatusStage(context, attributes, state)),
  garbage: httpFault((context, attributes, state) => new GarbageStage(context, attributes, state)),
  huge_header: httpFault((context, attributes, state) => new HugeHeaderStage(context, attributes, state)),
  tls_reply: httpFault((context, attributes, state) => new TlsReplyStage(context, attributes, state)),
};
