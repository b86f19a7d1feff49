/**
 * Reading request headers whatever their container: a fetch `Headers`, Node's
 * `IncomingHttpHeaders` (values may be arrays), a plain object in any key case,
 * or a list of `[name, value]` pairs.
 */

export type HeaderInput =
  | Headers
  | Record<string, string | string[] | undefined>
  | Iterable<readonly [string, string]>;

function isHeaders(h: unknown): h is Headers {
  return typeof Headers !== "undefined" && h instanceof Headers;
}

/** Every value of header `name` (case-insensitive). */
export function headerValues(headers: HeaderInput, name: string): string[] {
  const wanted = name.toLowerCase();
  if (isHeaders(headers)) {
    if (wanted === "set-cookie") return headers.getSetCookie();
    const v = headers.get(wanted);
    return v === null ? [] : [v];
  }
  const out: string[] = [];
  const entries: Iterable<readonly [string, unknown]> =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string]>)
      : Object.entries(headers as Record<string, unknown>);
  for (const [key, value] of entries) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) out.push(...value.filter((v): v is string => typeof v === "string"));
  }
  return out;
}
