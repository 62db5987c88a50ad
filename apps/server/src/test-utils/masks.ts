/** Test-only: comparing masks. */

/** IoU of two 0/1 planes of the same length (1 when both are empty). */
export function planeIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += (a[i] as number) & (b[i] as number);
    union += (a[i] as number) | (b[i] as number);
  }
  return union === 0 ? 1 : inter / union;
}

/** The union of several 0/1 planes of one length. */
export function unionOf(planes: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (const p of planes) for (let i = 0; i < length; i++) out[i] = (out[i] as number) | (p[i] as number);
  return out;
}
