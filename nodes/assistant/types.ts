/**
 * Types of the assistant engine: the plant it resolves names against, the language data it reads, and the
 * parse result (the library contract of issue #20).
 */
import type { IntentModel } from './intent-model';

export interface PlantParameter {
  name: string;
  unit?: string;
  min?: number;
  max?: number;
  aliases?: string[];
}
export interface PlantMachine {
  id: string;
  name?: string;
  aliases?: string[];
  parameters?: PlantParameter[];
}
export interface PlantNamed {
  id: string;
  name?: string;
  aliases?: string[];
}
export interface PlantCharacteristic extends PlantNamed {
  machine?: string;
  unit?: string;
}
export interface PlantShift {
  name: string;
  /** "HH:MM" local time (see ParseOptions.utcOffsetMin). */
  start: string;
  end: string;
}
export interface Plant {
  machines: PlantMachine[];
  lines?: PlantNamed[];
  orders?: PlantNamed[];
  items?: PlantNamed[];
  characteristics?: PlantCharacteristic[];
  shifts?: PlantShift[];
}

export type QuestionIntent =
  | 'oee'
  | 'status'
  | 'why_stopped'
  | 'alarms'
  | 'quality'
  | 'health'
  | 'schedule'
  | 'order_status'
  | 'energy'
  | 'inventory'
  | 'production_count'
  | 'help';
export type CommandIntent =
  'rush_order' | 'schedule_maintenance' | 'ack_alarm' | 'set_parameter' | 'start_machine' | 'stop_machine';
export type Intent = QuestionIntent | CommandIntent | 'out_of_scope';

export interface TimeRange {
  from: number;
  to: number;
}

export interface Slots {
  machine?: string;
  line?: string;
  order?: string;
  item?: string;
  characteristic?: string;
  parameter?: string;
  value?: number;
  unit?: string;
  period?: TimeRange;
  when?: TimeRange;
}

/** Something the parser noticed that the caller should tell the user about (nothing is guessed silently). */
export interface ParseIssue {
  kind:
    'unknown' | 'ambiguous' | 'missing' | 'out_of_limits' | 'negated' | 'unsupported' | 'too_long' | 'empty';
  slot?: keyof Slots;
  /** The words the user said. */
  text?: string;
  /** Closest plant id(s) for unknown or ambiguous names ("did you mean CNC1?"). */
  suggestions?: string[];
  limits?: { min?: number; max?: number; unit?: string };
}

export interface ParseResult {
  intent: Intent;
  slots: Slots;
  /** 0..1: how clearly the words point at this intent (see parse.ts for the score). */
  confidence: number;
  outOfScope: boolean;
  /** The in-scope intent the words scored highest for, also when the result is out_of_scope. */
  bestGuess?: Intent;
  issues: ParseIssue[];
}

export interface ParseOptions {
  plant: Plant;
  /** Epoch ms that relative times are resolved against (default Date.now()). */
  now?: number;
  /** The plant's local time offset from UTC in minutes (default 0: UTC). */
  utcOffsetMin?: number;
  /** Below this confidence the result is out_of_scope (default 0.5). */
  threshold?: number;
  /** Receives the tokens and the top intent scores (for debugging and the bench's --errors). */
  explain?: (info: { tokens: string[]; scores: string[]; features: string[] }) => void;
  /**
   * A learned intent classifier to combine with the cue scores (parse.ts BLEND), e.g. englishIntentModel
   * (lang/en-intent.json), the default for the English data (absent: englishIntentModel with the English data,
   * none with another language's); null: the parser alone.
   */
  intentModel?: IntentModel | null;
  /**
   * The combination (default parse.ts BLEND): the classifier's weight (1: its intent alone) and the parser
   * confidence from which its pick always stands.
   */
  blend?: { weight: number; cap: number };
  /** Language data (default English, lang/en.json). */
  lang?: LangData;
}

/** A language as data: every word the parser knows lives here, so another language is another file. */
export interface LangData {
  language: string;
  contractions: Record<string, string>;
  drop: string[];
  numbers: {
    units: Record<string, number>;
    tens: Record<string, number>;
    scales: Record<string, number>;
    point: string[];
    minus: string[];
    plus: string[];
    and: string[];
    half: string[];
  };
  units: Record<string, string[]>;
  quantityNames: Record<string, string>;
  time: {
    now: string[];
    today: string[];
    yesterday: string[];
    tomorrow: string[];
    tonight: string[];
    lastNight: string[];
    dayAfterTomorrow: string[];
    this: string[];
    last: string[];
    /** "last" words that always mean a rolling span back from now ("past week" is 7 days, not last calendar week). */
    rolling?: string[];
    next: string[];
    since: string[];
    /** "since" words that may also start a range of values ("from 6"): a clock time after them only, and weak. */
    sinceWeak?: string[];
    in: string[];
    at: string[];
    shift: string[];
    shiftStart: string[];
    shiftEnd: string[];
    midnight: string[];
    noon: string[];
    am: string[];
    pm: string[];
    oclock: string[];
    /** "this morning": from the start of today. */
    morning: string[];
    /** Words after a day ("tomorrow morning") that do not change it. */
    partOfDay: string[];
    durations: Record<'minute' | 'hour' | 'day' | 'week' | 'month', string[]>;
    shiftNames: Record<string, string[]>;
    weekdays: Record<string, number>;
  };
  negation: string[];
  corrections: string[];
  orderWords: string[];
  setTo: string[];
  questionWords: string[];
  intents: Record<
    string,
    {
      command?: boolean;
      cues: Record<string, number>;
      combos?: [string[], string[], number][];
      /**
       * Cues and word pairs that count only when the utterance says when: a task done now is no booking
       * ("calibrate the press" is out of scope, "calibrate the press tomorrow" books maintenance).
       */
      timed?: { cues?: Record<string, number>; combos?: [string[], string[], number][] };
    }
  >;
  unsupported: string[];
  /**
   * Word pairs that together ask for something the plant cannot answer ("how does ... work", "who ...
   * invented"): [first words, later words]; each pair found counts like one unsupported word.
   */
  unsupportedCombos?: [string[], string[]][];
  /**
   * Words that may put the next word outside the plant, read before `drop` removes them: after any of
   * them a word the parser cannot place ("the thermostat", "a kettle"); after a possessive anything but a
   * plant name or an owned word ("my car"); after an indefinite article a machine ("a hydraulic press" is
   * any press, not ours).
   */
  foreignMarkers?: string[];
  possessives?: string[];
  indefinite?: string[];
  /** Polite openings before a request ("could you", "please"): a question word after them asks for an action. */
  polite?: string[];
  /** Words that may follow a possessive and still mean the plant ("my machine", "our line"). */
  ownedWords?: string[];
  filler: string[];
  /** Word endings stripped when matching intent cues (halted meets halt), longest first. */
  stemSuffixes: string[];
  /** Endings of past forms: a command cue met only in such a form ("stopped") names a state, not an order. */
  pastSuffixes?: string[];
  /** Words that ask for a state to be brought about ("get it started", "need it stopped"): the past form is then an order. */
  causative?: string[];
  /** Common words of the language: known (never \"fixed\" into a plant name), but no cue. */
  common: string[];
  /** Words that ask about people ("who"), which the plant data cannot answer. */
  personWords: string[];
  /** Nouns for people anywhere in a question ("how many people are on shift"): the plant data knows machines. */
  personNouns?: string[];
  /** Words that end a clause like a comma ("but", "then"): a negation or a question covers its own clause only. */
  clauseBreaks?: string[];
  /** Openings that ask to be told something ("show me", "tell me"): a request for information, not an order. */
  asking?: string[];
  /** Words that ask for a cause ("why"): a command asked with one is a question about it. */
  causeWords?: string[];
  /** Spellings of zero read only as a digit inside a number ("one oh five"), never alone. */
  digitZero?: string[];
  /** Plural endings of nouns: a name's last word is also matched with or without one ("press" / "presses"). */
  pluralSuffixes?: string[];
  /** Words that introduce a reason ("because"): what follows explains, it asks for nothing. */
  reasonWords?: string[];
  /**
   * Function words a cue phrase of three or more words may lose inside it in clipped speech ("how use this"
   * for "how do I use this"); such a shortened cue counts for a little less.
   */
  optionalWords?: string[];
  /** Words that set a scene at the start ("before the meeting, ..."): what follows up to a pause or a request explains. */
  preamble?: string[];
  /** Words that open a purpose after an order ("stop the press for cleaning"): what follows explains it. */
  purposeWords?: string[];
  /** Pronouns that may stand inside a cue phrase where a name would ("shut it down"). */
  pronouns?: string[];
  /** Possessive endings stripped from a word ("the mill's" -> mill; "the machines'" -> machines). */
  possessiveEndings?: string[];
}
