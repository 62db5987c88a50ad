/**
 * Test-only: locates the golden fixtures of `../shared/fixtures/sam-reference/`. A missing fixture
 * fails loudly with the path it looked for.
 */
export { referencePath } from '@samtune/test-fixtures';
