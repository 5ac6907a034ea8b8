/**
 * A preview through on-demand range reads (files.preview): the first 64 kB of a text file as
 * text, an image (up to 8 MB, read in 1 MB ranges) drawn on a canvas, a hex dump otherwise.
 * Works offline for what the cache holds; a read that cannot be served says why.
 */
import { useEffect, useRef, useState } from 'react';
import type { EntryInfo } from '../../../app/api/entries.js';
import type { ErrorShape } from '../../../app/api/errors.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatBytes } from '../format.js';
import { useConnection } from '../hooks/connection-context.js';
import { base64ToBytes, decodeText, hexDump, imageType, looksLikeText } from '../preview-decode.js';
import { shown } from '../text-safety.js';

const TEXT_BYTES = 64 * 1024;
const CHUNK = 1024 * 1024;
const IMAGE_MAX = 8 * 1024 * 1024;

type Shown = { kind: 'text'; text: string; bytes: number; size: number } | { kind: 'hex'; text: string; size: number } | { kind: 'image'; bitmap: ImageBitmap; size: number } | { kind: 'too-big'; size: number };

function ImageCanvas({ bitmap, label }: { bitmap: ImageBitmap; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (canvas === null) return;
    const scale = Math.min(1, 560 / bitmap.width, 480 / bitmap.height);
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  }, [bitmap]);
  return <canvas ref={ref} className="preview-image" role="img" aria-label={label} />;
}

export function FilePreview({ entry }: { entry: EntryInfo }) {
  const { client } = useConnection();
  const [view, setView] = useState<Shown | null>(null);
  const [error, setError] = useState<ErrorShape | null>(null);
  useEffect(() => {
    let alive = true;
    setView(null);
    setError(null);
    const load = async (): Promise<void> => {
      const first = await client['files.preview']({ path: entry.path, offset: 0, length: TEXT_BYTES });
      if (!alive) return;
      if (!first.ok) {
        setError(first.error);
        return;
      }
      const size = first.value.size;
      const type = imageType(entry.name, first.value.contentType);
      if (type !== null) {
        if (size > IMAGE_MAX) {
          setView({ kind: 'too-big', size });
          return;
        }
        const parts: Uint8Array[] = [];
        for (let off = 0; off < size; off += CHUNK) {
          const r = await client['files.preview']({ path: entry.path, offset: off, length: Math.min(CHUNK, size - off) });
          if (!alive) return;
          if (!r.ok) {
            setError(r.error);
            return;
          }
          parts.push(base64ToBytes(r.value.base64));
        }
        try {
          const bitmap = await createImageBitmap(new Blob(parts as BlobPart[], { type }));
          if (alive) setView({ kind: 'image', bitmap, size });
        } catch {
          if (alive) setError({ code: 'PROTOCOL', message: 'the image could not be decoded' });
        }
        return;
      }
      const bytes = base64ToBytes(first.value.base64);
      if (looksLikeText(bytes)) setView({ kind: 'text', text: decodeText(bytes), bytes: first.value.bytes, size });
      else setView({ kind: 'hex', text: hexDump(bytes), size });
    };
    void load();
    return () => {
      alive = false;
    };
  }, [client, entry.path, entry.name]);

  if (error !== null) return <ErrorNote error={error} label="Preview" />;
  if (view === null) return <p className="muted">Reading…</p>;
  switch (view.kind) {
    case 'text':
      return (
        <div data-testid="preview">
          <pre className="preview-text">{view.text}</pre>
          {view.bytes < view.size && <p className="muted small">The first {formatBytes(view.bytes)} of {formatBytes(view.size)}.</p>}
        </div>
      );
    case 'hex':
      return (
        <div data-testid="preview">
          <p className="muted small">Not text ({formatBytes(view.size)}): the first bytes in hexadecimal.</p>
          <pre className="preview-text mono">{view.text}</pre>
        </div>
      );
    case 'image':
      return (
        <div data-testid="preview">
          <ImageCanvas bitmap={view.bitmap} label={`Preview of ${shown(entry.name)}`} />
          <p className="muted small">
            {view.bitmap.width} × {view.bitmap.height}, {formatBytes(view.size)}
          </p>
        </div>
      );
    case 'too-big':
      return <p className="muted">This image is {formatBytes(view.size)}, too big to preview here. Open it instead.</p>;
  }
}
