/**
 * A log bounded in entries and in bytes: it keeps at least the last `maxCount` entries unless they weigh more than
 * `maxBytes`, dropping the oldest first. Trimming only when the log is half as long again (or, for bytes, down to
 * 90 % of the budget) makes each append O(1) amortised.
 */
export class BoundedLog<T> {
  readonly items: T[] = [];
  private sizes: number[] = [];
  private total = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  /** Bytes the entries held weigh. */
  get bytes(): number {
    return this.total;
  }

  push(item: T, bytes: number): void {
    this.items.push(item);
    this.sizes.push(bytes);
    this.total += bytes;
    let drop = 0;
    if (this.items.length > this.maxCount + this.maxCount / 2) drop = this.items.length - this.maxCount;
    if (this.total > this.maxBytes) {
      let left = this.total;
      for (let i = 0; i < drop; i++) left -= this.sizes[i] as number;
      while (drop < this.items.length && left > this.maxBytes * 0.9) left -= this.sizes[drop++] as number;
    }
    if (drop > 0) {
      for (let i = 0; i < drop; i++) this.total -= this.sizes[i] as number;
      this.items.splice(0, drop);
      this.sizes.splice(0, drop);
    }
  }

  clear(): void {
    this.items.length = 0;
    this.sizes = [];
    this.total = 0;
  }
}
