/**
 * Test-only: a plugin module that registers its adapter at import time AND exports it as default
 * (a common plugin shape); loading it must not fail with "already registered".
 */
import type { DatasetAdapter } from '../adapter.js';
import { registerDatasetAdapter } from '../registry.js';

const adapter: DatasetAdapter = {
  name: 'self-registering',
  detect: () => false,
  load: async () => ({ labels: [], items: [] }),
};
registerDatasetAdapter(adapter);
export default adapter;
