import { dashboard } from './dashboard.js';
import { alertSignals, recordingRules, type Scope } from './rules.js';

export interface NamedQuery {
  /** Where the expression comes from: `record <name>`, `alert <name>` or `panel <title> <refId>`. */
  readonly source: string;
  readonly expr: string;
}

/**
 * Every PromQL expression a user of the rules and the dashboard relies on: each recording rule,
 * each alert's signal (its expression without the threshold: an alert is quiet when all is well),
 * each panel's query. Each must return series once the stack has had traffic.
 */
export function everyQuery(scope: Scope = {}): NamedQuery[] {
  return [
    ...recordingRules(scope).map((rule) => ({ source: `record ${rule.record}`, expr: rule.expr })),
    ...alertSignals(scope).map(({ alert, signal }) => ({ source: `alert ${alert}`, expr: signal })),
    ...dashboard(scope).panels.flatMap((panel) => panel.targets.map((target) => ({ source: `panel "${panel.title}" ${target.refId}`, expr: target.expr }))),
  ];
}
