/** Adds `value` to the list `map` holds for `key`, once: a multimap of distinct values. */
export function addDistinct<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}
