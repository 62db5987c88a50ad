/**
 * Gradient rule for `DepthToSpace` in DCR mode (the form `training-graph.ts` records SAM's
 * upscaling ConvTranspose in): it only moves values, and `SpaceToDepth` with the same block size is
 * its exact inverse, so `dx = SpaceToDepth(dy)`. Registered with @samtune/onnx's `registerGradient`
 * (the autodiff has no rule for it).
 */
import { getGradientRule, registerGradient, UnsupportedGradientError, type GradientRule } from '@samtune/onnx';

export const depthToSpaceGrad: GradientRule = {
  opTypes: ['DepthToSpace'],
  backward({ node, dy, ctx }) {
    const mode = node.attribute.find((a) => a.name === 'mode')?.s ?? 'DCR';
    const blocksize = node.attribute.find((a) => a.name === 'blocksize')?.i ?? 0;
    if (mode !== 'DCR' || blocksize < 1)
      throw new UnsupportedGradientError(
        `depthToSpaceGrad: node '${node.name ?? ''}' needs mode 'DCR' and a blocksize >= 1, got mode '${mode}', blocksize ${blocksize}`,
      );
    const x = node.input[0] as string;
    return [ctx.op('SpaceToDepth', [dy[0] as string], ctx.shape(x), { blocksize })];
  },
};

/** Registers `depthToSpaceGrad` unless a DepthToSpace rule already exists. */
export function ensureDepthToSpaceGrad(): void {
  if (!getGradientRule('DepthToSpace')) registerGradient(depthToSpaceGrad);
}
