import type { HealthState } from './types.js';

/** What one probe outcome does to a server's health. */
export interface HealthChange {
  from: HealthState;
  to: HealthState;
  /** The run of equal outcomes that crossed the threshold. */
  streak: number;
}

interface Transition {
  /** The outcome that counts towards leaving the state. */
  readonly leaveOn: 'pass' | 'fail';
  readonly to: HealthState;
}

/** The two states and the one way out of each: the whole machine as data. */
const TRANSITIONS: Record<HealthState, Transition> = {
  healthy: { leaveOn: 'fail', to: 'unhealthy' },
  unhealthy: { leaveOn: 'pass', to: 'healthy' },
};

/**
 * Hysteresis over probe outcomes: `unhealthyAfter` consecutive failures take a healthy server out,
 * `healthyAfter` consecutive passes bring an unhealthy one back. An outcome that agrees with the
 * current state never changes it, so one flaky probe cannot flap a server.
 */
export class HealthCounter {
  state: HealthState;
  consecutiveOk = 0;
  consecutiveFail = 0;
  private readonly healthyAfter: number;
  private readonly unhealthyAfter: number;

  constructor(initial: HealthState, healthyAfter: number, unhealthyAfter: number) {
    this.state = initial;
    this.healthyAfter = Math.max(1, Math.floor(healthyAfter));
    this.unhealthyAfter = Math.max(1, Math.floor(unhealthyAfter));
  }

  /** Counts one outcome; returns the change when it crossed the threshold of the current state. */
  record(ok: boolean): HealthChange | undefined {
    if (ok) {
      this.consecutiveOk++;
      this.consecutiveFail = 0;
    } else {
      this.consecutiveFail++;
      this.consecutiveOk = 0;
    }
    const transition = TRANSITIONS[this.state];
    const streak = transition.leaveOn === 'pass' ? this.consecutiveOk : this.consecutiveFail;
    const threshold = transition.leaveOn === 'pass' ? this.healthyAfter : this.unhealthyAfter;
    if (streak < threshold) return undefined;
    const from = this.state;
    this.state = transition.to;
    return { from, to: transition.to, streak };
  }
}
