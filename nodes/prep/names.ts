/**
 * Feature names from tag paths: by default the last path segment, or as many trailing segments as make
 * the names unique ("Temperature" alone, or "CNC1/Temperature" and "Press1/Temperature" side by side).
 */

/** The shortest trailing-segment names that are unique among `topics` (same order as `topics`). */
export function featureNames(topics: readonly string[]): string[] {
  const parts = topics.map((t) => t.split('/'));
  const depth = parts.map(() => 1);
  for (;;) {
    const names = parts.map((p, i) => p.slice(-depth[i]).join('/'));
    const seen = new Map<string, number[]>();
    names.forEach((n, i) => seen.set(n, [...(seen.get(n) ?? []), i]));
    let grew = false;
    for (const idx of seen.values()) {
      if (idx.length < 2) continue;
      for (const i of idx) {
        if (depth[i] < parts[i].length) {
          depth[i]++;
          grew = true;
        }
      }
    }
    if (!grew) return names;
  }
}

/**
 * A name for a topic discovered after names were handed out: the shortest trailing-segment name that is
 * neither taken nor the tail of another feature's topic (names already in use never change, so the
 * feature order and names stay stable).
 */
export function nextFeatureName(
  topic: string,
  taken: ReadonlySet<string>,
  otherTopics: readonly string[] = [],
): string {
  const p = topic.split('/');
  for (let d = 1; d <= p.length; d++) {
    const n = p.slice(-d).join('/');
    if (!taken.has(n) && !otherTopics.some((t) => t === n || t.endsWith(`/${n}`))) return n;
  }
  let k = 2;
  while (taken.has(`${topic}#${k}`)) k++;
  return `${topic}#${k}`;
}
