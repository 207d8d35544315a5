/**
 * Replaces `mnemonist/lru-cache` in the Lambda bundles (esbuild alias, see lib/bundling.ts). Its
 * only user is the DynamoDB client's endpoint discovery cache (@aws-sdk/endpoint-cache:
 * `new LRUCache(capacity)`, get, peek, has, set, clear), and mnemonist's typed-array
 * implementation with its iterator helpers costs ~7 KB per bundle. This is the same
 * least-recently-used cache on a Map, whose insertion order is the recency order.
 */
export default class LRUCache<K, V> {
  readonly capacity: number;
  private readonly items = new Map<K, V>();

  constructor(capacity: number) {
    if (typeof capacity !== 'number' || capacity <= 0) {
      throw new Error('mnemonist/lru-cache: capacity should be positive number.');
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.size;
  }

  clear(): void {
    this.items.clear();
  }

  /** Stores the value as most recently used; evicts the least recently used when full. */
  set(key: K, value: V): this {
    if (this.items.has(key)) this.items.delete(key);
    else if (this.items.size >= this.capacity) this.items.delete(this.items.keys().next().value as K);
    this.items.set(key, value);
    return this;
  }

  /** Reads and marks as most recently used. */
  get(key: K): V | undefined {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key) as V;
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }

  /** Reads without changing the recency order. */
  peek(key: K): V | undefined {
    return this.items.get(key);
  }

  has(key: K): boolean {
    return this.items.has(key);
  }

  forEach(callback: (value: V, key: K, cache: this) => void): void {
    // mnemonist iterates from the most recently used.
    for (const [key, value] of [...this.items].reverse()) callback(value, key, this);
  }
}
