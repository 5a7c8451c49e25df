import { join } from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const ROOT = join(__dirname, '..', '..', '..');
