/**
 * Which byte ranges of a file are held (cached extents), laid over its length:
 *
 *   0 ├█████░░░░░░████████░░░░┤ size        █ held   ░ not held
 *
 * An SVG scaled to its box; the label under it says the same in words for screen readers.
 */
import { formatBytes, percent } from '../format.js';

export interface ExtentBarProps {
  size: number;
  extents: ReadonlyArray<readonly [number, number]>;
  label: string;
  inUse?: boolean;
  staging?: boolean;
}

const W = 1000;

export function heldBytes(extents: ReadonlyArray<readonly [number, number]>): number {
  return extents.reduce((sum, [s, e]) => sum + Math.max(0, e - s), 0);
}

export function ExtentBar({ size, extents, label, inUse = false, staging = false }: ExtentBarProps) {
  const held = heldBytes(extents);
  const words = `${label}: ${formatBytes(held)} of ${formatBytes(size)} held (${percent(held, size)}) in ${extents.length} ${extents.length === 1 ? 'range' : 'ranges'}${inUse ? ', in use' : ''}${staging ? ', staging a download' : ''}`;
  return (
    <div className={`extent-bar${inUse ? ' in-use' : ''}${staging ? ' staging' : ''}`}>
      <svg viewBox={`0 0 ${W} 10`} preserveAspectRatio="none" role="img" aria-label={words}>
        <title>{words}</title>
        <rect className="extent-empty" x="0" y="0" width={W} height="10" />
        {size > 0 &&
          extents.map(([s, e]) => (
            <rect key={`${s}-${e}`} className="extent-held" x={(s / size) * W} y="0" width={Math.max(1, ((e - s) / size) * W)} height="10" />
          ))}
      </svg>
    </div>
  );
}
