// The windowing arithmetic of a virtual list with fixed-height rows: which rows are in
// view and where to draw them. Only those rows exist in the DOM. Past a few million
// pixels browsers stop laying out (WebKit and Blink cap an element near 33.5 million px),
// so the scroll height is capped and scroll positions are mapped onto rows by ratio.

/** Well under the engines' layout limit, with room for the viewport. */
export const MAX_SCROLL_PX = 8_000_000

export type Window = {
  /** First and last (exclusive) row index to render, overscan included. */
  first: number
  end: number
  /** Where row `first` is drawn, in px from the top of the scroll content. */
  offsetPx: number
  /** The scroll content's height. */
  heightPx: number
}

export function windowFor(scrollTop: number, viewportPx: number, rowPx: number, rows: number, overscan = 4): Window {
  const contentPx = rows * rowPx
  const heightPx = Math.min(contentPx, MAX_SCROLL_PX)
  const maxTop = Math.max(0, heightPx - viewportPx)
  const top = Math.min(Math.max(0, scrollTop), maxTop)
  // The virtual position: equal to scrollTop unless the content is taller than the cap.
  const virtualTop = heightPx > viewportPx && contentPx > heightPx ? (top * (contentPx - viewportPx)) / maxTop : top
  const firstVisible = Math.min(Math.floor(virtualTop / rowPx), Math.max(0, rows - 1))
  const first = Math.max(0, firstVisible - overscan)
  const visible = Math.ceil(viewportPx / rowPx) + 1
  const end = Math.min(rows, firstVisible + visible + overscan)
  // Draw the first visible row where the viewport cuts it, keeping sub-row scrolling smooth.
  const firstVisiblePx = top - (virtualTop - firstVisible * rowPx)
  return { first, end, offsetPx: firstVisiblePx - (firstVisible - first) * rowPx, heightPx }
}
