/** Messages between the server's main thread and its model worker (`model-worker.ts`, `worker-entry.ts`). */
import type { EmbeddingPayload, EngineOptions, ModelInfo, ModelSpec } from './model-engine.js';
import type { DecoderFile, DecoderForm } from './page-decoder.js';
import type { EmbedReply, PredictReply } from './schemas.js';
import type { PredictRequest } from './validate.js';

/** `workerData` of the model worker. */
export interface WorkerInit {
  readonly spec: ModelSpec;
  readonly engine: EngineOptions;
}

/** A job for the worker; `jobId` pairs it with its reply. */
export type WorkerJob =
  | { readonly jobId: number; readonly op: 'embed-file'; readonly path: string; readonly name: string }
  | { readonly jobId: number; readonly op: 'embed-bytes'; readonly bytes: Uint8Array }
  | { readonly jobId: number; readonly op: 'predict'; readonly request: PredictRequest }
  | { readonly jobId: number; readonly op: 'embedding'; readonly id: string; readonly dtype: 'float16' | 'float32' }
  | { readonly jobId: number; readonly op: 'decoder'; readonly form: DecoderForm }
  /** Serve the decoder of a fine-tuned checkpoint file; no file: the loaded one. */
  | { readonly jobId: number; readonly op: 'set-decoder'; readonly file?: string };

/** An error as it crosses the thread boundary (`errorReply` of the worker-side error). */
export interface WorkerErrorPayload {
  readonly status: number;
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly stack?: string;
}

/** Messages from the worker; every job reply carries the cache size for `GET /api/health`. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly info: ModelInfo }
  | { readonly type: 'fatal'; readonly error: WorkerErrorPayload }
  | {
      readonly type: 'done';
      readonly jobId: number;
      readonly result: EmbedReply | PredictReply | EmbeddingPayload | DecoderFile | null;
      readonly cacheSize: number;
    }
  | { readonly type: 'failed'; readonly jobId: number; readonly error: WorkerErrorPayload; readonly cacheSize: number };
