/** Adds `value` to the list `map` holds for `key`, once: a multimap of distinct values. */
export function addDistinct<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

/** The set `map` holds for `key`, made empty the first time: a multimap of distinct values. */
export function setFor<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

/** The first of each group of texts that differ only in case (a channel written two ways). */
export function distinctIgnoringCase(texts: Iterable<string>): string[] {
  const seen = new Map<string, string>();
  for (const text of texts) if (!seen.has(text.toLowerCase())) seen.set(text.toLowerCase(), text);
  return [...seen.values()];
}
