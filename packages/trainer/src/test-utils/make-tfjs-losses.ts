/**
 * Writes `plant-mini-tfjs-losses.json`: the tfjs engine's per-epoch train losses of the parity
 * recipe (see plant-mini-parity.ts). Run from packages/trainer:
 *
 *   npx tsx --conditions=@samtune/source src/test-utils/make-tfjs-losses.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../trainer.js';
import { TFJS_LOSSES_FILE, plantMiniParityConfig, type EngineLosses } from './plant-mini-parity.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-tfjs-losses-'));
try {
  let backend = '';
  const result = await runTraining(plantMiniParityConfig('tfjs', join(tmp, 'run'), join(tmp, 'cache')), {
    onEvent: (e) => {
      if (e.type === 'backend') backend = e.detail;
      if (e.type === 'epoch-end') console.log(`epoch ${e.record.epoch}: train loss ${e.record.trainLoss}`);
    },
  });
  const out: EngineLosses = {
    command: 'cd packages/trainer && npx tsx --conditions=@samtune/source src/test-utils/make-tfjs-losses.ts',
    engine: 'tfjs',
    backend,
    date: new Date().toISOString(),
    trainLoss: result.history.map((h) => h.trainLoss),
    prompts: result.history.map((h) => h.prompts),
  };
  writeFileSync(TFJS_LOSSES_FILE, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${TFJS_LOSSES_FILE}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
