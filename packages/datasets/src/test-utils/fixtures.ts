/**
 * Test-only: locates `../shared` (beside the repo root). A missing fixture fails loudly with the
 * path it looked for; tests never skip silently.
 */
export { repoRoot, sharedPath, datumaroFixture } from '@samtune/test-fixtures';
