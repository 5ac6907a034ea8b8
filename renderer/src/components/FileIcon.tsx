/** A folder or file icon drawn in SVG (no emoji font needed), hidden from screen readers. */
export function FileIcon({ folder }: { folder: boolean }) {
  return folder ? (
    <svg className="file-icon folder" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M1.5 3.5h4.5l1.5 1.5h7v8.5h-13z" />
    </svg>
  ) : (
    <svg className="file-icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3" />
    </svg>
  );
}
