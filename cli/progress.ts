// A download's progress on a terminal: one line, redrawn at most ten times a second, with the bytes,
// the percentage, the speed and the time left.

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000, i = 0;
  for (; v >= 1000 && i < units.length - 1; i++) v /= 1000;
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

const seconds = (s: number) => (s < 60 ? `${Math.ceil(s)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`);

/** A progress line on stderr for `total` bytes, of which `start` were there before (a resumed download). */
export function progressLine(label: string, total: number, start: number): (done: number, end?: boolean) => void {
  const t0 = Date.now();
  let last = 0;
  return (done, end = false) => {
    const now = Date.now();
    if (!end && now - last < 100) return;
    last = now;
    const secs = (now - t0) / 1000;
    const speed = secs > 0 ? (done - start) / secs : 0;
    const pct = total ? Math.floor((100 * done) / total) : 100;
    const width = 24, fill = Math.round((width * pct) / 100);
    const eta = end ? '' : speed > 0 ? `, ${seconds((total - done) / speed)} left` : '';
    process.stderr.write(`\r\x1b[K${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${pct}% ${formatBytes(done)}/${formatBytes(total)}, ${formatBytes(Math.round(speed))}/s${eta}${end ? '\n' : ''}`);
  };
}
