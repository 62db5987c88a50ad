/**
 * Dataset summaries for `samtune data inspect`: images, instances and skipped entries per subset,
 * instances per label.
 */
import type { Dataset } from './model.js';

/**
 * Counts of one subset. `skipped` counts reported entries (files, items, annotations) of the subset;
 * `crowd` the instances among `instances` marked `iscrowd` (CVAT writes every mask-tool object so).
 */
export interface SubsetSummary {
  readonly images: number;
  readonly instances: number;
  readonly crowd: number;
  readonly skipped: number;
}

/** The `--json` shape of `samtune data inspect`. */
export interface DatasetSummary {
  readonly format: string;
  readonly subsets: Record<string, SubsetSummary>;
  /** Label name -> instance count over all subsets; declared labels without instances count 0. */
  readonly labels: Record<string, number>;
}

/**
 * Summarises a loaded dataset. Subsets that lost every item (e.g. a malformed annotation file) still
 * appear, with their skipped count. Labels sharing a name get `name (id N)` keys after the first.
 */
export function summarizeDataset(ds: Dataset): DatasetSummary {
  const subsets: Record<string, SubsetSummary> = {};
  const names = [...Object.keys(ds.subsets)];
  for (const s of ds.skipped) if (s.subset !== undefined && !names.includes(s.subset)) names.push(s.subset);
  const keyOf = new Map<number, string>();
  const labels: Record<string, number> = {};
  for (const l of ds.labels) {
    const key = l.name in labels ? `${l.name} (id ${l.id})` : l.name;
    keyOf.set(l.id, key);
    labels[key] = 0;
  }
  for (const name of names) {
    const items = ds.subsets[name] ?? [];
    let instances = 0;
    let crowd = 0;
    for (const it of items) {
      instances += it.instances.length;
      for (const inst of it.instances) {
        if (inst.iscrowd) crowd++;
        const key = keyOf.get(inst.label.id) ?? inst.label.name;
        labels[key] = (labels[key] ?? 0) + 1;
      }
    }
    subsets[name] = {
      images: items.length,
      instances,
      crowd,
      skipped: ds.skipped.filter((s) => s.subset === name).length,
    };
  }
  return { format: ds.format, subsets, labels };
}
