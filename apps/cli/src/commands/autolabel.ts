/** `samtune autolabel`: prompts in, labels out — masks for every box/point prompt of a dataset, as COCO. */
import { loadDataset } from '@samtune/datasets';
import { writeFileAtomic } from '@samtune/sam-model';
import { autolabel } from '@samtune/trainer';
import type { PromptMode } from '@samtune/transforms';
import { parseFlags, required } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';
import { announceBackend, loadModel } from '../model-io.js';
import { checkOutputFile } from '../output-file.js';
import { createProgressBar } from '../progress.js';

const MODES: readonly PromptMode[] = ['box', 'points', 'both'];

export const autolabelCommand: CliCommand = {
  path: ['autolabel'],
  summary: 'label unlabelled images: a mask for every box/point prompt, written as COCO',
  usage: `usage: samtune autolabel --checkpoint <run/best.safetensors|name|path> --data-root <dir|file.json> --out <labels.json>
       [--format auto|coco|voc|css|datumaro|labelme|yolo|sa1b] [--subset <name>]... [--prompt both|box|points]

  The dataset holds the prompts: boxes (e.g. a detector's output as a COCO file without segmentation)
  and/or points (Datumaro points). Each prompt becomes a mask (compressed RLE) in a COCO instances file,
  which 'samtune data inspect', 'train' and 'eval' read back.
  --prompt   both (default): the box when an instance has one, else its points; box/points: only that kind
  --images   image folder when --data-root is a COCO .json file (default: its folder)
  Prompts whose mask comes out empty are counted ("empty" in the JSON line) and exit 0; exit 1 only
  when an image or prompt could not be read.`,
  async run(argv, io) {
    const f = parseFlags(argv, {
      checkpoint: { type: 'string' },
      'data-root': { type: 'string' },
      format: { type: 'string' },
      subset: { type: 'string', multiple: true },
      prompt: { type: 'string' },
      out: { type: 'string' },
      images: { type: 'string' },
    });
    const checkpoint = required(f.checkpoint, 'checkpoint');
    const root = required(f['data-root'], 'data-root');
    const out = required(f.out, 'out');
    checkOutputFile(out);
    const prompt = (f.prompt ?? 'both') as PromptMode;
    if (!MODES.includes(prompt)) throw new UsageError(`--prompt '${f.prompt}': expected one of ${MODES.join(', ')}`);
    const ds = await loadDataset(root, {
      ...(f.format ? { format: f.format } : {}),
      ...(f.images ? { images: f.images } : {}),
    });
    for (const s of ds.skipped) io.err(`skipped while reading: ${s.message}`);
    await announceBackend(io);
    const model = await loadModel(checkpoint, io);
    const bar = createProgressBar('autolabel');
    try {
      const res = await autolabel(model, ds, {
        prompt,
        ...(f.subset ? { subsets: f.subset } : {}),
        onProgress: (done, total, id) => bar.update(done, total, id),
      });
      writeFileAtomic(out, `${JSON.stringify(res.coco)}\n`);
      bar.done(
        `autolabel: ${res.instances} masks on ${res.images} images -> ${out}${res.empty.length ? `, ${res.empty.length} prompts gave an empty mask (not written)` : ''}${res.skipped.length ? `, skipped ${res.skipped.length}` : ''}`,
      );
      for (const s of res.empty) io.err(`empty mask: ${s}`);
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
};
