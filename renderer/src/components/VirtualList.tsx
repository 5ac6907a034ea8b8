/**
 * A list that stays fast with 100,000 rows: only the rows in view (plus a margin) are in the
 * DOM, inside a spacer as tall as all of them. Rows have one fixed height.
 *
 *   ┌ viewport (scrolls) ────────┐
 *   │ spacer height = n × rowH   │   rows [first, last) placed at first × rowH
 *   └────────────────────────────┘
 */
import { useState, type ReactNode } from 'react';

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  height: number;
  label: string;
  render: (item: T, index: number) => ReactNode;
  keyOf: (item: T, index: number) => string;
}

const MARGIN = 8;

export function VirtualList<T>({ items, rowHeight, height, label, render, keyOf }: VirtualListProps<T>) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / rowHeight) - MARGIN);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + MARGIN);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <div key={keyOf(item, i)} className="vrow" role="row" aria-rowindex={i + 2} style={{ top: i * rowHeight, height: rowHeight }}>
        {render(item, i)}
      </div>,
    );
  }
  return (
    <div className="vlist" style={{ height }} onScroll={(e) => setTop(e.currentTarget.scrollTop)} role="rowgroup" aria-label={label}>
      <div className="vlist-spacer" style={{ height: items.length * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
