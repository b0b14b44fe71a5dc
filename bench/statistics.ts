/**
 * The median of `values`: the middle one, or with an even count the mean of
 * the two middle ones (the upper of them alone would favour whichever side
 * had the luckier round of two).
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
