/**
 * What a remote (WebDAV server, local folder) says about its entries and itself.
 * These types cross IPC and `--json`, so they live in the contract, with schemas.
 *
 * Paths are remote paths relative to the account's root, as decoded names:
 * '/' is the root, '/docs/a b.txt' a file in it. No trailing slash, no '.'/'..'
 * segments, no empty segments. See app/remote/path.ts for the codec.
 */
import { z } from 'zod';

/** How far an ETag can be trusted (RFC 9110 §8.8.3). */
export const ETAG_STRENGTHS = ['strong', 'weak', 'none'] as const;
export type EtagStrength = (typeof ETAG_STRENGTHS)[number];

export const remoteEntrySchema = z.object({
  /** Decoded remote path with a leading '/'. */
  path: z.string(),
  /** The last segment of `path`, byte for byte as the server named it ('' for the root). */
  name: z.string(),
  kind: z.enum(['file', 'folder']),
  /** Size in bytes; null for folders and when the server did not say. */
  size: z.number().int().nonnegative().nullable(),
  /** The entity tag exactly as the server sent it (quotes and `W/` included), or null. */
  etag: z.string().nullable(),
  /** 'strong' only for a well-formed strong tag; a weak one is never sent in If-Match. */
  etagStrength: z.enum(ETAG_STRENGTHS),
  /** Last modification, ms since the epoch; null when missing or unparseable (B3). */
  mtimeMs: z.number().nullable(),
  /** The server's content type, when it said. */
  contentType: z.string().nullable(),
});
export type RemoteEntry = z.infer<typeof remoteEntrySchema>;

/** Why one entry of a listing was left out; the rest of the listing stands (B4, M1). */
export const LIST_PROBLEM_KINDS = [
  /** The href points outside the listed folder (`..`, another host, an encoded slash, a deeper path). */
  'OUTSIDE_FOLDER',
  /** The href or name cannot be decoded or is not a valid name (`%00`, bad UTF-8, `\`). */
  'BAD_NAME',
  /** Properties the entry cannot do without are missing (resourcetype, a file's getcontentlength). */
  'MISSING_PROPERTIES',
  /** The server answered this entry with an error status inside the 207. */
  'ENTRY_STATUS',
  /** The same name appears more than once; every copy is dropped, none is trusted. */
  'DUPLICATE',
  /** Neither a file nor a folder (a symlink, FIFO, socket or device in a local folder); never followed. */
  'UNSUPPORTED_KIND',
] as const;
export type ListProblemKind = (typeof LIST_PROBLEM_KINDS)[number];

export const listProblemSchema = z.object({
  kind: z.enum(LIST_PROBLEM_KINDS),
  /** The href (or on-disk name) as received, for the log. */
  href: z.string(),
  /** What was wrong, in words. */
  message: z.string(),
});
export type ListProblem = z.infer<typeof listProblemSchema>;

export const listResultSchema = z.object({
  /** The listed folder itself. */
  folder: remoteEntrySchema,
  /** Its direct children, never the folder itself. */
  entries: z.array(remoteEntrySchema),
  /** Entries that were dropped, and why. */
  problems: z.array(listProblemSchema),
});
export type ListResult = z.infer<typeof listResultSchema>;

/**
 * What the server was found to do, by probing it (never assumed).
 * "false" also means "could not find out".
 */
export const capabilitiesSchema = z.object({
  /** A ranged GET is answered with 206 and exactly the range. */
  ranges: z.boolean(),
  /** The strength of the ETags the server gives for files. */
  etags: z.enum(ETAG_STRENGTHS),
  /** The DAV compliance classes from the `DAV:` header (e.g. ['1', '2']); [] for a local folder. */
  davClasses: z.array(z.string()),
  /** A PUT with a failing `If-Match` is refused with 412. */
  ifMatchOnPut: z.boolean(),
  /** A PUT with `If-None-Match: *` onto an existing file is refused with 412. */
  ifNoneMatchOnPut: z.boolean(),
  /** A DELETE with a failing `If-Match` is refused with 412. */
  ifMatchOnDelete: z.boolean(),
  /** A folder's ETag changes when something deep inside it changes. */
  folderEtagsPropagate: z.boolean(),
  /** PROPFIND with `Depth: infinity` is answered (Apache refuses it with 403). */
  depthInfinity: z.boolean(),
  /** What the probe could not find out, or saw that was odd, in words. */
  notes: z.array(z.string()),
});
export type Capabilities = z.infer<typeof capabilitiesSchema>;
