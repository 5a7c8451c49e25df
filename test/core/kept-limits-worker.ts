/** A kept worker that answers every call with its own young-generation limit (jobs.test.ts). */
import { resourceLimits } from 'node:worker_threads';
import { serveKeptWorker } from '../../nodes/core/jobs';

serveKeptWorker<unknown, number | undefined>('probe', () => ({
  result: resourceLimits.maxYoungGenerationSizeMb,
}));
