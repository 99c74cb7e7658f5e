// Limits on what an uploaded torrent may describe, so the server never accepts one that every
// agent would then refuse (libtorrent's load limits, NAME_MAX of the cinemas' file systems).

export interface TorrentLimits {
  /** files listed in the torrent (padding files included) */
  maxFiles: number;
  /** path elements of one file below the torrent's folder */
  maxDepth: number;
  /** bytes of one path element; 255 is NAME_MAX of ext4, XFS and most others */
  maxPathBytes: number;
  /** bytes of the whole .torrent; libtorrent loads at most 10,000,000 by default */
  maxTorrentBytes: number;
}

export const DEFAULT_TORRENT_LIMITS: TorrentLimits = {
  maxFiles: 10000,
  maxDepth: 16,
  maxPathBytes: 255,
  maxTorrentBytes: 10_000_000,
};

/** The defaults with the configured fields laid over; throws naming a field that is not a positive integer. */
export function torrentLimits(partial: Partial<TorrentLimits> | undefined): TorrentLimits {
  const out = { ...DEFAULT_TORRENT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`torrentLimits.${k} must be a positive whole number, not ${JSON.stringify(v)}`);
  }
  return out;
}
