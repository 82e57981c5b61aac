/**
 * Timestamps as the formats print them, turned into ISO 8601. Local times without a zone (nginx's
 * error log, HAProxy's request date) stay without an offset: the log does not say which zone it is.
 */
const MONTHS: Readonly<Record<string, string>> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

/** nginx error log: "2024/01/02 15:04:05" → "2024-01-02T15:04:05". */
export function fromSlashDate(text: string): string | undefined {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(text);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}${m[5] ?? ''}` : undefined;
}

/**
 * Common log format "10/Oct/2023:13:55:36 +0000" → "2023-10-10T13:55:36+00:00"; HAProxy's
 * "06/Feb/2009:12:14:14.655" (no zone) → "2009-02-06T12:14:14.655".
 */
export function fromClfDate(text: string): string | undefined {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}:\d{2}:\d{2})(\.\d+)?(?: ([+-])(\d{2})(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  const zone = m[6] === undefined ? '' : `${m[6]}${m[7]}:${m[8]}`;
  return `${m[3]}-${month}-${m[1]}T${m[4]}${m[5] ?? ''}${zone}`;
}

/** An ISO 8601 string as written by the line ("2016-04-15T20:17:00.310Z"), when it is one. */
export function fromIso(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$/.test(text) ? text : undefined;
}

/** Seconds since the epoch (Caddy's default "ts": 1700000000.123) → ISO in UTC. */
export function fromEpochSeconds(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return new Date(Math.round(value * 1000)).toISOString();
}

/** The Date an explanation's time stands for; local times are read in this process's zone. */
export function dateOf(iso: string | undefined): Date | undefined {
  if (iso === undefined) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
