// cache.js - a small LRU cache with a time to live, as the API servers use
// for account settings (30 seconds).

export class LruCache {
  constructor(limit = 1000, ttlMs = 30000) {
    this.limit = limit;
    this.ttlMs = ttlMs;
    this.map = new Map();
  }

  get(key, now = Date.now()) {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.map.delete(key);
      return undefined;
    }
    // Move to the most recently used end.
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  set(key, value, now = Date.now()) {
    this.map.delete(key);
    this.map.set(key, { value, expires: now + this.ttlMs });
    while (this.map.size > this.limit) {
      const oldest = this.map.keys().next().value;
      this.map.delete(oldest);
    }
  }
}

export function cached(fn, cache = new LruCache()) {
  return async function (key) {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = await fn(key);
    cache.set(key, value);
    return value;
  };
}
