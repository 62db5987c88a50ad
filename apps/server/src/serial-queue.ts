/**
 * A FIFO queue that runs one task at a time: model work (one encoder session, one tfjs predictor)
 * and the labels file's read-modify-write are serialised through one each, while the HTTP server
 * keeps accepting requests.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Tasks queued or running. */
  get pending(): number {
    return this.waiting;
  }

  /** Runs `task` after every task queued before it; a failing task does not stop the queue. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(task).finally(() => {
      this.waiting--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
