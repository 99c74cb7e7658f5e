// Byte counts the way a person reads them, the one format everywhere (CLI, logs, alarms):
// decimal units as drives are sold, one decimal place ("5.0 TB", "820.0 MB", "512 B").

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}
