/**
 * Test-only: paths of the reference fixtures in `../shared` (beside the repo root). A missing
 * fixture throws with the path it looked for; tests never skip.
 */
export { repoRoot, referencePath } from '@samtune/test-fixtures';
