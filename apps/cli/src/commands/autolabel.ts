/** `samtune autolabel`: prompts in, labels out — masks for every box/point prompt of a dataset, as COCO. */
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { defineCommand, Flag } from '../flags.js';
import { checkOutputFile } from '../output-file.js';

export const autolabelCommand = defineCommand({
  path: ['autolabel'],
  summary: 'label unlabelled images: a mask for every box/point prompt, written as COCO',
  synopsis: `usage: samtune autolabel --checkpoint <run/best.safetensors|name|path> --data-root <dir|file.json> --out <labels.json> [flags]

The dataset holds the prompts: boxes (e.g. a detector's output as a COCO file without segmentation)
and/or points (Datumaro points). Each prompt becomes a mask (compressed RLE) in a COCO instances file,
which 'samtune data inspect', 'train' and 'eval' read back. Prompts whose mask comes out empty are
counted ("empty" in the JSON line) and exit 0; exit 1 only when an image or prompt could not be read.`,
  flags: Type.Object({
    checkpoint: common.checkpoint,
    'data-root': common.dataRoot,
    out: Flag.text('the COCO instances file to write', { placeholder: '<labels.json>' }),
    format: common.format,
    subset: Flag.texts('only this subset (repeatable; default all)', '<name>'),
    prompt: Flag.oneOf(
      ['both', 'box', 'points'],
      'both: the box when an instance has one, else its points; box/points: only that kind',
      { default: 'both' },
    ),
    images: common.images,
  }),
  async run(f, io) {
    const out = f.out;
    checkOutputFile(out);
    const prompt = f.prompt;
    const { loadDataset } = await import('@samtune/datasets');
    const { writeFileAtomic } = await import('@samtune/sam-model');
    const { autolabel } = await import('@samtune/trainer');
    const { announceBackend, loadAnyModel } = await import('../model-io.js');
    const { createProgressBar } = await import('../progress.js');
    const ds = await loadDataset(f['data-root'], {
      format: f.format,
      ...(f.images ? { images: f.images } : {}),
    });
    for (const s of ds.skipped) io.err(`skipped while reading: ${s.message}`);
    await announceBackend(io);
    const model = await loadAnyModel(f.checkpoint, io);
    const bar = createProgressBar('autolabel');
    try {
      const res = await autolabel(model, ds, {
        prompt,
        ...(f.subset.length > 0 ? { subsets: f.subset } : {}),
        onProgress: (done, total, id) => bar.update(done, total, id),
      });
      writeFileAtomic(out, `${JSON.stringify(res.coco)}\n`);
      bar.done(
        `autolabel: ${res.instances} masks on ${res.images} images -> ${out}${res.empty.length ? `, ${res.empty.length} prompts gave an empty mask (not written)` : ''}${res.skipped.length ? `, skipped ${res.skipped.length}` : ''}`,
      );
      // One line for all empty prompts (24 of them are one fact, not 24 lines); --verbose lists each.
      if (res.empty.length > 0)
        io.err(
          io.verbose
            ? res.empty.map((s) => `empty mask: ${s}`).join('\n')
            : `empty masks: ${res.empty.length} prompt(s) gave an empty mask, e.g. ${res.empty[0]}${res.empty.length > 1 ? ' (--verbose lists them all)' : ''}`,
        );
      for (const s of res.skipped) io.err(`skipped ${s}`);
      io.out(
        JSON.stringify({
          images: res.images,
          instances: res.instances,
          empty: res.empty.length,
          skipped: res.skipped.length,
          out,
        }),
      );
      // empty masks are a result (the model found nothing there), not a failure: exit 0
      return res.skipped.length > 0 ? 1 : 0;
    } finally {
      await model.release();
    }
  },
});
