/** A Workers Rate Limiting binding fake, so tests choose when a limit is reached. */

/** A binding that records the keys it is asked about and allows the first `allow` calls per key. */
export function fakeRateLimit(allow: number): { binding: RateLimit; keys: string[] } {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  const binding: RateLimit = {
    async limit({ key }) {
      keys.push(key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= allow };
    },
  };
  return { binding, keys };
}
