/**
 * The sample contract's building blocks now live in `message.ts` beside the message readers; this module
 * keeps the old import path working (see docs/ARCHITECTURE.md "Reading a message").
 */
export * from './message';
