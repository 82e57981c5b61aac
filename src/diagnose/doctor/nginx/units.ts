/** nginx's time and size values (ngx_parse_time, ngx_parse_size). */

const TIME_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** `30s`, `1m30s`, `500ms`; a bare number is seconds. Undefined when not a time. */
export function parseNginxTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const parts = /^(?:\d+(?:ms|[smhdwMy]))+$/.test(text) ? text.match(/\d+(?:ms|[smhdwMy])/g) : null;
  if (parts === null) return undefined;
  let ms = 0;
  for (const part of parts) {
    const unit = part.endsWith('ms') ? 'ms' : part.slice(-1);
    ms += Number(part.slice(0, part.length - unit.length)) * TIME_UNITS_MS[unit]!;
  }
  return ms;
}

/** `4k`, `8K`, `1m`, `512`. Undefined when not a size. */
export function parseNginxSize(text: string): number | undefined {
  const match = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (match === null) return undefined;
  const unit = match[2]!.toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(match[1]) * factor;
}
