/**
 * What is measured. The 1 MiB scenario keeps 64 connections so that its column compares with
 * the small-response one and so that a proxy's buffering under many large responses shows in RSS.
 */
export const SCENARIOS = [
  { name: 'small64', path: '/small', connections: 64, title: 'small responses (20-byte body), 64 connections' },
  { name: 'small256', path: '/small', connections: 256, title: 'small responses (20-byte body), 256 connections' },
  { name: 'big', path: '/1m', connections: 64, title: '1 MiB responses, 64 connections' },
] as const;

export type Scenario = (typeof SCENARIOS)[number];
export type ScenarioName = Scenario['name'];
