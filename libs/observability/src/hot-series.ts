/** The series of one set of label values in `series`, made by `make` on first use. */
export function seriesOf<L extends string, S>(
  series: Map<string, S>,
  labelNames: readonly L[],
  labels: Record<L, string>,
  make: (labels: Record<L, string>) => S,
): S {
  let key = '';
  for (const name of labelNames) key += `${labels[name]}\u0000`;
  let found = series.get(key);
  if (!found) {
    found = make(labels);
    series.set(key, found);
  }
  return found;
}
