/**
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment), so
 * `tsl` is one edit from `tls` and `ballance` one from `balance`.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** Case, `-` and `_` do not count: `hashHeader` and `hash-header` both mean `hash_header`. */
function normalise(text: string): string {
  return text.toLowerCase().replace(/[-_]/g, '');
}

/** The known word closest to `input` (at most 2 edits, and fewer than half its length), if any. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const wanted = normalise(input);
  for (const candidate of candidates) {
    const distance = editDistance(wanted, normalise(candidate));
    if (distance < bestDistance && distance <= 2 && distance * 2 < Math.max(candidate.length, 2)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or nothing when no known word is close. */
export function didYouMean(input: unknown, candidates: Iterable<string>): string {
  if (typeof input !== 'string') return '';
  const match = closest(input, candidates);
  return match === undefined || match === input ? '' : ` (did you mean "${match}"?)`;
}
