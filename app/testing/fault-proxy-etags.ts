// Weak ETags for F13 ("a gzip proxy turns every ETag into W/"…"") and absolute hrefs in a
// buffered multistatus body. Text rewrites only; the caller decides which bodies to buffer.

/** `"abc"` → `W/"abc"`; weak tags and anything that is not a quoted tag stay as they are. */
export function weakEtag(value: string): string {
  const trimmed = value.trim();
  return trimmed.startsWith('"') ? `W/${trimmed}` : value;
}

/** Every `<…getetag>"x"</…getetag>` (quotes raw or as &quot;) becomes `W/"x"`. */
export function weakenGetetags(xml: string): string {
  return xml.replace(/(<(?:[A-Za-z_][\w.-]*:)?getetag\b[^>]*>\s*)("|&quot;|&#34;|&#x22;)/gi, '$1W/$2');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `<…href>http://target/x</…href>` → `<…href>http://proxy/x</…href>` for each origin in `from`. */
export function rewriteHrefOrigins(xml: string, from: readonly string[], to: string): string {
  let out = xml;
  for (const origin of from) {
    const pattern = new RegExp(`(<(?:[A-Za-z_][\\w.-]*:)?href\\b[^>]*>\\s*)${escapeRegExp(origin)}(?=[/?#<])`, 'gi');
    out = out.replace(pattern, `$1${to}`);
  }
  return out;
}
