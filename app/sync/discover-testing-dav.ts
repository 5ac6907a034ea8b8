/**
 * For discover-remote.test.ts: a small in-memory WebDAV server on the harness's replay server
 * (a real socket) whose folder ETags PROPAGATE, as Nextcloud's and ownCloud's do and Apache's do
 * not, so the "skip unchanged subtrees" path runs against a real HTTP exchange and the real
 * capabilities probe (app/remote/webdav/probe.ts) finds `folderEtagsPropagate: true` by itself.
 *
 *   OPTIONS  DAV: 1           MKCOL  201 / 405 / 409       PUT  201 / 204, If-Match, If-None-Match: *
 *   GET      Range -> 206     DELETE 204 (subtree)          PROPFIND Depth 0 / 1 (207), infinity -> 403
 *
 *   every change bumps the version of the entry and of every folder above it:
 *     ETag = "<kind>-<version>"   (strong)
 *
 * Not a general server: enough of RFC 4918 for the backend's list/stat/probe. Test use only.
 */
import { multistatusResponse, type MultistatusEntry } from '../testing/multistatus.js';
import type { RecordedRequest } from '../testing/replay-server.js';
import type { Reply } from '../testing/replay-reply.js';

interface Node {
  kind: 'file' | 'folder';
  version: number;
  data: Buffer;
  children: Map<string, Node>;
}

const BASE = '/dav/';
const DATE = new Date('2024-01-02T03:04:05Z');

export class PropagatingDav {
  readonly root: Node = folderNode();
  private clock = 1;

  /** Creates folders and a file at `path` ('/a/b/f.txt') as another client would, bumping ETags. */
  put(path: string, data: string | Buffer): void {
    const names = split(path);
    let node = this.root;
    const chain: Node[] = [node];
    for (const name of names.slice(0, -1)) {
      let next = node.children.get(name);
      if (next === undefined) {
        next = folderNode();
        node.children.set(name, next);
      }
      node = next;
      chain.push(node);
    }
    const leaf = fileNode(Buffer.from(data));
    node.children.set(names[names.length - 1]!, leaf);
    chain.push(leaf);
    this.touch(chain);
  }

  mkdir(path: string): void {
    let node = this.root;
    const chain: Node[] = [node];
    for (const name of split(path)) {
      let next = node.children.get(name);
      if (next === undefined) {
        next = folderNode();
        node.children.set(name, next);
      }
      node = next;
      chain.push(node);
    }
    this.touch(chain);
  }

  etagOf(path: string): string {
    const node = this.lookup(split(path))?.node;
    if (node === undefined) throw new Error(`no ${path}`);
    return etag(node);
  }

  /** The replay-server handler. */
  handle = async (req: RecordedRequest, reply: Reply): Promise<void> => {
    const target = decodeTarget(req.path);
    if (target === null) return reply.send({ status: 400 });
    const found = this.lookup(target);
    switch (req.method) {
      case 'OPTIONS':
        return reply.send({ status: 200, headers: { DAV: '1', Allow: 'OPTIONS, GET, PUT, DELETE, MKCOL, PROPFIND' } });
      case 'PROPFIND': {
        const depth = req.headers['depth'] ?? 'infinity';
        if (depth === 'infinity') return reply.send({ status: 403 });
        if (found === undefined) return reply.send({ status: 404 });
        const href = BASE + target.map(encodeURIComponent).join('/') + (found.node.kind === 'folder' && target.length > 0 ? '/' : '');
        const entries: MultistatusEntry[] = [describe(href, found.node)];
        if (depth === '1' && found.node.kind === 'folder') {
          const prefix = href.endsWith('/') ? href : `${href}/`;
          for (const [name, child] of found.node.children) entries.push(describe(prefix + encodeURIComponent(name) + (child.kind === 'folder' ? '/' : ''), child));
        }
        return reply.send(multistatusResponse(entries));
      }
      case 'GET': {
        if (found === undefined || found.node.kind !== 'file') return reply.send({ status: 404 });
        const data = found.node.data;
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers['range'] ?? '');
        if (range === null) return reply.send({ status: 200, headers: { ETag: etag(found.node) }, body: data });
        const from = Number(range[1]);
        const to = Math.min(Number(range[2]), data.length - 1);
        return reply.send({
          status: 206,
          headers: { ETag: etag(found.node), 'Content-Range': `bytes ${from}-${to}/${data.length}` },
          body: data.subarray(from, to + 1),
        });
      }
      case 'PUT': {
        const parent = this.lookup(target.slice(0, -1));
        if (parent === undefined || parent.node.kind !== 'folder' || target.length === 0) return reply.send({ status: 409 });
        if (req.headers['if-none-match'] === '*' && found !== undefined) return reply.send({ status: 412 });
        const ifMatch = req.headers['if-match'];
        if (ifMatch !== undefined && (found === undefined || etag(found.node) !== ifMatch)) return reply.send({ status: 412 });
        const leaf = fileNode(req.body);
        parent.node.children.set(target[target.length - 1]!, leaf);
        this.touch([...parent.chain, leaf]);
        return reply.send({ status: found === undefined ? 201 : 204, headers: { ETag: etag(leaf) } });
      }
      case 'MKCOL': {
        if (found !== undefined) return reply.send({ status: 405 });
        const parent = this.lookup(target.slice(0, -1));
        if (parent === undefined || parent.node.kind !== 'folder') return reply.send({ status: 409 });
        const made = folderNode();
        parent.node.children.set(target[target.length - 1]!, made);
        this.touch([...parent.chain, made]);
        return reply.send({ status: 201 });
      }
      case 'DELETE': {
        if (found === undefined || target.length === 0) return reply.send({ status: 404 });
        const ifMatch = req.headers['if-match'];
        if (ifMatch !== undefined && etag(found.node) !== ifMatch) return reply.send({ status: 412 });
        const parentChain = found.chain.slice(0, -1);
        parentChain[parentChain.length - 1]!.children.delete(target[target.length - 1]!);
        this.touch(parentChain);
        return reply.send({ status: 204 });
      }
      default:
        return reply.send({ status: 405 });
    }
  };

  private lookup(names: readonly string[]): { node: Node; chain: Node[] } | undefined {
    let node = this.root;
    const chain = [node];
    for (const name of names) {
      const next = node.children.get(name);
      if (next === undefined || node.kind !== 'folder') return undefined;
      node = next;
      chain.push(node);
    }
    return { node, chain };
  }

  private touch(chain: readonly Node[]): void {
    const version = ++this.clock;
    for (const node of chain) node.version = version;
  }
}

function folderNode(): Node {
  return { kind: 'folder', version: 1, data: Buffer.alloc(0), children: new Map() };
}

function fileNode(data: Buffer): Node {
  return { kind: 'file', version: 1, data, children: new Map() };
}

function etag(node: Node): string {
  return `"${node.kind}-${node.version}"`;
}

function describe(href: string, node: Node): MultistatusEntry {
  return node.kind === 'folder'
    ? { href, props: { resourcetype: 'collection', getetag: etag(node), getlastmodified: DATE } }
    : { href, props: { resourcetype: 'file', getcontentlength: node.data.length, getetag: etag(node), getlastmodified: DATE } };
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function decodeTarget(raw: string): string[] | null {
  if (!raw.startsWith(BASE) && raw !== BASE.slice(0, -1)) return null;
  try {
    return raw.slice(BASE.length).split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return null;
  }
}
