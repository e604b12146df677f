import type { ComponentChildren } from 'preact';

/**
 * A table of many rows of which only those in view (and a few either side) are in the page: a scrollable region
 * that takes focus so that the keyboard can scroll it, and spacer rows standing for the rest, so that 100,000 rows
 * scroll as fast as a hundred. The decisions table and the compliance settings table draw their rows through it.
 */

export const ROW_HEIGHT = 30;
const VIEW_ROWS = 18;
const OVERSCAN = 8;

export interface WindowedTableProps {
  /** The scrolling region's accessible name. */
  label: string;
  tableClass: string;
  /** Rows shown (after filtering). */
  count: number;
  /** The region's scroll position, kept by the caller so that a new filter can go back to the top. */
  top: number;
  onScroll: (top: number) => void;
  /** The header row's cells. */
  head: ComponentChildren;
  /** The `position`-th shown row (0-based), with its `aria-rowindex`. */
  row: (position: number, ariaRowIndex: number) => ComponentChildren;
}

export function WindowedTable({ label, tableClass, count, top, onScroll, head, row }: WindowedTableProps) {
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(count, first + VIEW_ROWS + 2 * OVERSCAN);
  const rows: ComponentChildren[] = [];
  for (let position = first; position < last; position++) rows.push(row(position, position + 2));
  return (
    <section
      class="table-scroll"
      style={{ height: `${(VIEW_ROWS + 1) * ROW_HEIGHT + 4}px` }}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region takes focus so that the keyboard can scroll it.
      tabIndex={0}
      aria-label={label}
      onScroll={(event) => onScroll(event.currentTarget.scrollTop)}
    >
      <table class={tableClass} aria-rowcount={count + 1}>
        <thead>
          <tr aria-rowindex={1}>{head}</tr>
        </thead>
        <tbody>
          {first > 0 ? <tr class="spacer" style={{ height: `${first * ROW_HEIGHT}px` }} /> : null}
          {rows}
          {last < count ? <tr class="spacer" style={{ height: `${(count - last) * ROW_HEIGHT}px` }} /> : null}
        </tbody>
      </table>
    </section>
  );
}
