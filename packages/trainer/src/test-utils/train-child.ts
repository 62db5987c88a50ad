/**
 * Test-only child process: `tsx --conditions=@samtune/source train-child.ts '<TrainConfig JSON>' [--resume]`
 * runs `runTrainingInWorker` (the worker thread path of the CLI) and prints one line per logged event.
 */
import { runTrainingInWorker } from '../worker.js';
import type { TrainConfig } from '../config.js';

const config = JSON.parse(process.argv[2] as string) as TrainConfig;
const result = await runTrainingInWorker(config, {
  resume: process.argv.includes('--resume'),
  onEvent: (e) => {
    if (e.type === 'step' || e.type === 'epoch-end' || e.type === 'resume' || e.type === 'eval-done')
      console.log(JSON.stringify(e));
  },
});
console.log(JSON.stringify({ type: 'child-done', epochs: result.epochs, bestEpoch: result.bestEpoch }));
