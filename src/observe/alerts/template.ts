/**
 * The part of Prometheus' alert templating that annotations use: `{{ $labels.name }}`, `{{ $value }}`
 * and the pipes `humanize`, `humanizePercentage` and `humanizeDuration`. The same annotation text
 * then reads the same in a Gatewise notification and, exported, in Prometheus. Anything else between
 * braces is left as written.
 */

const ACTION = /\{\{\s*([^}]*?)\s*\}\}/g;

export function expandTemplate(text: string, labels: Readonly<Record<string, string>>, value: number): string {
  return text.replace(ACTION, (whole, body: string) => {
    const [subject, ...pipes] = body.split('|').map((part) => part.trim());
    let out: string;
    if (subject === '$value') {
      const pipe = pipes[0];
      if (pipes.length > 1) return whole;
      out =
        pipe === undefined
          ? String(value)
          : pipe === 'humanize'
            ? humanize(value)
            : pipe === 'humanizePercentage'
              ? `${humanize(value * 100)}%`
              : pipe === 'humanizeDuration'
                ? humanizeDuration(value)
                : whole;
    } else if (subject?.startsWith('$labels.') && pipes.length === 0) {
      out = labels[subject.slice('$labels.'.length)] ?? '';
    } else out = whole;
    return out;
  });
}

/** Four significant digits, with k/M/G above a thousand and m/µ below one (Prometheus' humanize). */
export function humanize(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const big = ['', 'k', 'M', 'G', 'T'];
  const small = ['', 'm', 'µ', 'n'];
  if (abs >= 1) {
    let i = 0;
    let v = value;
    while (Math.abs(v) >= 1000 && i < big.length - 1) {
      v /= 1000;
      i++;
    }
    return `${Number(v.toPrecision(4))}${big[i]}`;
  }
  let i = 0;
  let v = value;
  while (Math.abs(v) < 1 && i < small.length - 1) {
    v *= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${small[i]}`;
}

/** Seconds as `1d 2h 3m 4s`, or `250ms` below a second (Prometheus' humanizeDuration). */
export function humanizeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (Math.abs(seconds) < 1) return seconds === 0 ? '0s' : `${humanize(seconds)}s`;
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${Number(rest.toPrecision(4))}s`);
  return parts.join(' ');
}
