/**
 * The assistant engine: a local natural-language parser for operator questions and commands, and the
 * answers and proposals built from live plant state. No Node-RED import; `takt-ask` is the node around it.
 */
export {
  parse,
  english,
  englishIntentModel,
  BLEND,
  INTENT_SLOTS,
  COMMAND_INTENTS,
  isCommand,
  MAX_CHARS,
} from './parse';
export {
  featuresOf,
  predictProba,
  classify,
  trainIntentModel,
  type IntentModel,
  type Example,
} from './intent-model';
export * from './types';
export {
  answer,
  PlantState,
  type Answer,
  type Card,
  type AnswerOptions,
  type Facts,
  type Proposal,
} from './answer';
export {
  Policy,
  guard,
  permissionsProblem,
  type Permissions,
  type IntentPermission,
  type PolicyOptions,
  type AssistantAuditEntry,
  type Guarded,
} from './safety';
export {
  askModel,
  checkToolCall,
  readCompletion,
  requestBody,
  toolSchema,
  completionsUrl,
  faultText,
  TOOL_NAME,
  type ChatModelOptions,
  type ModelFault,
  type ModelOutcome,
} from './llm';
