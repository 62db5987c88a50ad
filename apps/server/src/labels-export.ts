/**
 * `GET /api/export?segmentation=rle|polygon`: the labels file as a COCO document to download, with
 * the masks as COCO RLE (as stored) or as simplified polygons (`polygons.ts`, the X-AnyLabeling
 * style); `area` and `bbox` stay those of the mask. An annotation whose mask gives no polygon
 * (nothing larger than a speck) is left out, and the count is in `x-samtune-skipped-annotations`.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { InvalidFieldError } from './errors.js';
import { uncompressedRle, type LabelStore } from './labels-store.js';
import { rleToPolygons } from './polygons.js';
import { CocoDocumentReply, replies } from './schemas.js';

const ExportQuery = Type.Object({
  segmentation: Type.Optional(Type.Union([Type.Literal('rle'), Type.Literal('polygon')], { default: 'rle' })),
});

export function registerLabelsExport(app: FastifyInstance, labels: LabelStore | undefined): void {
  app.get(
    '/api/export',
    {
      schema: {
        description:
          'The labels as a COCO document to download: segmentation=rle (default, as stored) or polygon (simplified outlines, holes filled).',
        querystring: ExportQuery,
        response: replies(CocoDocumentReply, 400),
      },
    },
    async (req, reply) => {
      if (!labels)
        throw new InvalidFieldError(
          'segmentation',
          'the server was started without --images, so there are no labels to export',
        );
      const mode = (req.query as { segmentation?: 'rle' | 'polygon' }).segmentation ?? 'rle';
      const doc = await labels.read();
      reply.header('content-disposition', `attachment; filename="labels.${mode}.coco.json"`);
      if (mode === 'rle') return doc;
      let skipped = 0;
      const annotations = doc.annotations.flatMap((a) => {
        const polygons = rleToPolygons(uncompressedRle(a.segmentation));
        if (polygons.length === 0) skipped++;
        return polygons.length === 0 ? [] : [{ ...a, segmentation: polygons }];
      });
      reply.header('x-samtune-skipped-annotations', String(skipped));
      return { ...doc, annotations };
    },
  );
}
