/** The failure taxonomy, the one classifier and the error responses: every upstream failure becomes one Failure here. */
export {
  type ClassifyContext,
  classify,
  failureOf,
  isPlainHttpToTlsAnswer,
  isTlsRecordStart,
  matchRule,
  rulesFor,
} from './classify.js';
export {
  type ErrorResponse,
  type ErrorResponseOptions,
  proxyStatusValue,
  renderErrorResponse,
} from './error-response.js';
export { UPSTREAM_ERROR_CODES, UpstreamError, type UpstreamErrorCode, type UpstreamErrorOptions } from './errors.js';
export {
  type Check,
  type Confidence,
  type Explanation,
  explainLine,
  type RankedCause,
  RECOGNISERS,
  type Recogniser,
  SOURCES,
  type Source,
} from './explain/index.js';
export { type Failure, PHASES, type Phase } from './failure.js';
export {
  analyzeLog,
  type LogAnalysis,
  type LogGroup,
  type MinuteCount,
  type RenderLogOptions,
  renderLogAnalysis,
} from './log-analysis.js';
export { CLASSIFY_RULES, type ClassifyRule, REASON_PATTERNS, type RuleCondition } from './rules.js';
export {
  ERROR_TYPES,
  type ErrorType,
  type ErrorTypeInfo,
  isErrorType,
  isRootCause,
  ROOT_CAUSES,
  type RootCause,
  type RootCauseInfo,
} from './taxonomy.js';
