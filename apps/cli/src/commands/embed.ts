/**
 * `samtune embed`: image embeddings [1,256,64,64] on onnxruntime-node, one model load for many images.
 * A SAM 2.1 checkpoint (told by `checkpointFamily`) also writes its two high-res levels.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { Type } from 'typebox';
import { UsageError } from '../command.js';
import { defineCommand, Flag } from '../flags.js';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.bmp', '.gif']);

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
}

export const embedCommand = defineCommand({
  path: ['embed'],
  summary: 'compute image embeddings (onnxruntime-node) and write them to disk',
  synopsis:
    'usage: samtune embed --checkpoint <name|path> (--image <file>... | --images <dir>) --out <file.safetensors|file.npy|dir> [--strict]',
  flags: Type.Object({
    checkpoint: Flag.text(
      'tiny_vit | vit_b | vit_l | vit_h | sam2.1_hiera_<size> (downloaded and cached) or a .pth/.pt/.safetensors path',
      {
        placeholder: '<name|path>',
      },
    ),
    image: Flag.texts('an image file; repeat for several', '<file>'),
    images: Type.Optional(Flag.text('a folder: every image in it', { placeholder: '<dir>' })),
    out: Flag.text(
      'one image: a .safetensors (image_embeddings + sizes; SAM 2.1: + high_res_feats.0/.1) or .npy (image_embeddings only) file; several images: a folder receiving <image stem>.safetensors each',
      { placeholder: '<file|dir>' },
    ),
    strict: Flag.bool('stop at the first unreadable image (default: report it, skip it, go on; exit code 1)'),
  }),
  async run(f, io) {
    const { checkpoint, out } = f;
    const images = [...f.image, ...(f.images ? listImages(f.images) : [])];
    if (images.length === 0) throw new UsageError('no images: give --image <file> or --images <dir>');
    const ext = extname(out).toLowerCase();
    const toFile = ext === '.safetensors' || ext === '.npy';
    if (toFile && images.length > 1)
      throw new UsageError(`--out ${out} is a file but ${images.length} images were given: pass a folder`);
    if (!toFile && existsAsFile(out)) throw new UsageError(`--out ${out} exists and is not a folder`);

    const { checkpointFamily, encodeNpy, writeEmbedding } = await import('@samtune/sam-model');
    const { ImageReadError, readImage } = await import('@samtune/transforms');
    const { loadModel, loadSam2EmbeddingModel } = await import('../model-io.js');
    const { createProgressBar } = await import('../progress.js');
    const model =
      checkpointFamily(checkpoint) === 'sam2'
        ? await loadSam2EmbeddingModel(checkpoint, io)
        : await loadModel(checkpoint, io);
    io.err(`image encoder: onnxruntime-node (cpu)`);
    const bar = createProgressBar('embed');
    const skipped: string[] = [];
    let written = 0;
    try {
      for (const [i, path] of images.entries()) {
        bar.update(i, images.length, basename(path));
        let img;
        try {
          img = await readImage(path);
        } catch (err) {
          if (f.strict || !(err instanceof ImageReadError)) throw err;
          skipped.push(`${path}: ${err.message}`);
          continue;
        }
        const emb = await model.embedImage(img);
        const target = toFile ? out : join(out, `${basename(path, extname(path))}.safetensors`);
        mkdirSync(dirname(target), { recursive: true });
        if (ext === '.npy') writeFileSync(target, encodeNpy(emb.embedding));
        else writeEmbedding(target, emb, { image: path, checkpoint_sha256: model.source.sha256 });
        written++;
      }
      bar.update(images.length, images.length);
      bar.done(
        `embed: wrote ${written} embedding${written === 1 ? '' : 's'} to ${out}${skipped.length ? `, skipped ${skipped.length}` : ''}`,
      );
    } finally {
      await model.release();
    }
    for (const s of skipped) io.err(`skipped ${s}`);
    return skipped.length > 0 ? 1 : 0;
  },
});

function existsAsFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
