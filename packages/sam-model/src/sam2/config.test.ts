import { describe, expect, it } from 'vitest';
import {
  SAM2_HIERA_LAYOUTS,
  SAM2_MASK_DECODER,
  Sam2ConfigError,
  UnknownHieraLayoutError,
  inferSam2Config,
  sam2Preset,
  type HieraLayout,
} from './config.js';
import { hieraBlocks, hieraStageEnds } from './hiera-layout.js';
import { miniEncoderManifest, miniHieraFacts } from './test-utils/sam2-fixtures.js';

/** The encoder shapes of an official-format checkpoint with this trunk (what the loader reads). */
function syntheticShapes(
  embed: number,
  stages: readonly number[],
  window0: number,
  posEmbed: readonly [number, number],
): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const t = 'image_encoder.trunk.';
  m.set(`${t}patch_embed.proj.weight`, [embed, 3, 7, 7]);
  m.set(`${t}pos_embed`, [1, embed, ...posEmbed]);
  m.set(`${t}pos_embed_window`, [1, embed, window0, window0]);
  const ends = hieraStageEnds(stages);
  let dim = embed;
  const channels: number[] = [];
  for (let i = 0; i <= ends[ends.length - 1]!; i++) {
    const out = ends.includes(i - 1) ? dim * 2 : dim;
    m.set(`${t}blocks.${i}.attn.qkv.weight`, [3 * out, dim]);
    m.set(`${t}blocks.${i}.mlp.layers.0.weight`, [4 * out, out]);
    if (out !== dim) m.set(`${t}blocks.${i}.proj.weight`, [out, dim]);
    if (ends.includes(i)) channels.push(out);
    dim = out;
  }
  channels.reverse().forEach((c, i) => m.set(`image_encoder.neck.convs.${i}.conv.weight`, [256, c, 1, 1]));
  // video-only modules, any shapes: ignored
  m.set('memory_attention.layers.0.self_attn.q_proj.weight', [7, 3]);
  return m;
}

describe('inferSam2Config on the official layouts (synthetic shape maps)', () => {
  it.each(SAM2_HIERA_LAYOUTS.map((l) => [l.name, l] as [string, HieraLayout]))('recognises %s', (name, layout) => {
    const c = inferSam2Config(syntheticShapes(layout.embedDim, layout.stages, 8, layout.posEmbed));
    expect(c).toEqual(sam2Preset(layout.name));
    expect(JSON.stringify(c)).toBe(JSON.stringify(sam2Preset(layout.name))); // equal cache keys
    expect(c.name).toBe(name);
    expect(c.imageEncoder.stages).toEqual(layout.stages);
    expect(c.imageEncoder.numHeads).toBe(layout.facts.numHeads);
    expect(c.imageEncoder.globalAttBlocks).toEqual(layout.facts.globalAttBlocks);
    expect(c.imageEncoder.windowSpec).toEqual(layout.facts.windowSpec);
    expect(c.imageEncoder.backboneChannelList).toEqual([8, 4, 2, 1].map((m) => m * layout.embedDim));
    expect(c.imageEncoder.mlpRatio).toBe(4);
    expect(c.maskDecoder).toEqual(SAM2_MASK_DECODER);
    expect(c.promptEncoder.embedDim).toBe(256);
  });

  it('gives the published decoder sizes', () => {
    expect(SAM2_MASK_DECODER).toMatchObject({
      transformerDim: 256,
      numMultimaskOutputs: 3,
      iouHeadDepth: 3,
      iouHeadHiddenDim: 256,
      predObjScores: true,
      useHighResFeatures: true,
      iouPredictionUseSigmoid: true,
    });
  });

  it('refuses an unrecognised layout with a named error, and takes it with facts', () => {
    const shapes = syntheticShapes(32, [1, 1, 2, 1], 8, [14, 14]);
    expect(() => inferSam2Config(shapes)).toThrow(UnknownHieraLayoutError);
    expect(() => inferSam2Config(shapes)).toThrow(/embed 32, stages \[1,1,2,1\] is not an official layout/);
    const c = inferSam2Config(shapes, miniHieraFacts());
    expect(c.name).toBe('custom');
    expect(c.imageEncoder.globalAttBlocks).toEqual([3]);
  });

  it('names a missing key', () => {
    const shapes = syntheticShapes(96, [1, 2, 7, 2], 8, [7, 7]);
    shapes.delete('image_encoder.trunk.pos_embed');
    expect(() => inferSam2Config(shapes)).toThrow(Sam2ConfigError);
    expect(() => inferSam2Config(shapes)).toThrow(/'image_encoder.trunk.pos_embed' is missing/);
  });

  it('refuses a trunk that is not 4 stages, and facts that do not fit', () => {
    expect(() => inferSam2Config(syntheticShapes(96, [1, 2, 7], 8, [7, 7]))).toThrow(/has 3 stages .* expected 4/);
    const shapes = syntheticShapes(32, [1, 1, 2, 1], 8, [14, 14]);
    expect(() => inferSam2Config(shapes, { ...miniHieraFacts(), windowSpec: [8, 4] })).toThrow(
      /expected 4 window sizes/,
    );
  });

  it('refuses a pos_embed_window that is not window_spec[0]', () => {
    expect(() => inferSam2Config(syntheticShapes(96, [1, 2, 7, 2], 7, [7, 7]))).toThrow(
      /expected window_spec\[0\] = 8/,
    );
  });
});

describe('hieraBlocks', () => {
  it("reproduces the fixture manifest's per-block layout of the reduced trunk", () => {
    const e = miniEncoderManifest();
    const c = inferSam2Config(syntheticShapes(e.embed_dim, e.stages, 8, [14, 14]), miniHieraFacts());
    const got = hieraBlocks(c.imageEncoder).map((b) => [b.dim, b.dimOut, b.numHeads, b.window, b.qPool]);
    expect(got).toEqual(e['blocks [dim, dim_out, num_heads, window_size, q_pool]']);
  });

  it('Hiera-T: 12 blocks, global at 5/7/9, stage starts keep the previous window', () => {
    const c = inferSam2Config(syntheticShapes(96, [1, 2, 7, 2], 8, [7, 7]));
    const b = hieraBlocks(c.imageEncoder);
    expect(b).toHaveLength(12);
    expect(b.map((x) => x.window)).toEqual([8, 8, 4, 4, 14, 0, 14, 0, 14, 0, 14, 7]);
    expect(b.map((x) => x.numHeads)).toEqual([1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 8, 8]);
    expect(b.filter((x) => x.qPool).length).toBe(3);
  });
});
