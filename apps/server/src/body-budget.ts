/**
 * A bound on the request-body bytes held in memory at once. Each request with a body reserves its
 * size (its `Content-Length`, or the route's limit for a chunked body) before a byte is read, and
 * gives it back when its response closes (sent, failed or abandoned); a body that does not fit gets
 * 503 + Retry-After at once. So N concurrent 64 MiB uploads cost at most the budget, not N x 64 MiB.
 */
import type { ServerResponse } from 'node:http';
import { ServerBusyError } from './errors.js';

export class BodyBudget {
  private used = 0;

  /** @param capacity bytes of request bodies held at once */
  constructor(readonly capacity: number) {}

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Reserves `bytes` until `res` closes.
   * @throws ServerBusyError (503) when the reservation would pass the capacity.
   */
  reserve(bytes: number, res: ServerResponse): void {
    if (bytes <= 0) return;
    if (this.used + bytes > this.capacity)
      throw new ServerBusyError(
        `body: expected at most ${this.capacity} bytes of request bodies in flight, got ${this.used} held and ${bytes} more; retry after 1 s`,
        1,
      );
    this.used += bytes;
    res.once('close', () => {
      this.used -= bytes;
    });
  }
}
