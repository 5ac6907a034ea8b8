/**
 * The views and their addresses (`#/transfers` …): each is reachable by a labelled link, and
 * the address bar keeps the view across reloads.
 */
export const VIEWS = [
  { id: 'overview', label: 'Overview' },
  { id: 'transfers', label: 'Transfers' },
  { id: 'cache', label: 'Cache' },
  { id: 'problems', label: 'Retries & conflicts' },
  { id: 'files', label: 'Files' },
  { id: 'diagnostics', label: 'Diagnostics' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export function viewFromHash(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return (VIEWS.find((v) => v.id === id)?.id ?? 'overview') as ViewId;
}
