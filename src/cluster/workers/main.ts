/** The entry point of a worker process (`serve --workers`): see worker.ts. */
import { runWorker } from './worker.js';

runWorker();
