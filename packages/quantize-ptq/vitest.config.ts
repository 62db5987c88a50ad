import { samtuneVitestConfig } from '../../vitest.shared.js';

export default samtuneVitestConfig({ shared: true });
