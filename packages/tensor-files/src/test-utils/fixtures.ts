/**
 * Test-only: locates `../shared` (beside the repo root) and its fixtures. A missing fixture fails
 * loudly with the path it looked for; tests never skip silently.
 */
export { repoRoot, sharedPath, referencePath } from '@samtune/test-fixtures';
