// Resident memory of a process split as Linux counts it (/proc/<pid>/status): anonymous pages (heap,
// buffers: what the process really holds) apart from file pages (mapped files, which libtorrent's
// mmap storage brings in and which the kernel can drop at any time).
import fs from 'node:fs';

export interface ProcessMemory {
  rssBytes: number;
  anonBytes: number;
  fileBytes: number;
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Reads /proc/<pid>/status (default: this process); rss from process.memoryUsage where /proc is absent. */
export function processMemory(pid: number | 'self' = 'self'): ProcessMemory {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    if (pid !== 'self') throw new Error(`no process ${pid}`);
    const rss = process.memoryUsage.rss();
    return { rssBytes: rss, anonBytes: rss, fileBytes: 0 };
  }
  return { rssBytes: field(text, 'VmRSS'), anonBytes: field(text, 'RssAnon'), fileBytes: field(text, 'RssFile') + field(text, 'RssShmem') };
}
