/** Test-only: the fields the fine-tune and version tests read from any JSON reply. */
import type { VersionInfo } from '../finetune/versions.js';

export interface ApiReply {
  readonly activeVersion?: string;
  readonly active?: string;
  readonly versions?: VersionInfo[];
  readonly version?: string;
  readonly state?: string;
  readonly running?: boolean;
  readonly phase?: string;
  readonly cancelled?: boolean;
  readonly id?: string;
  readonly cached?: boolean;
  readonly saved?: number;
  readonly total?: number;
  readonly masks?: { readonly counts: number[] }[];
  readonly error?: { readonly code: string; readonly message: string };
}
