// The naming rules of the wire contract for groups, peers and torrents: one charset that is safe
// as a file name, a URL path segment and an object key, so no name can ever climb out of its directory.

export const GROUP_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const PEER_ID_PATTERN = GROUP_ID_PATTERN;
export const TORRENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$';
export const INFO_HASH_PATTERN = '^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$';

const groupRe = new RegExp(GROUP_ID_PATTERN);
const torrentRe = new RegExp(TORRENT_NAME_PATTERN);

export function isGroupId(s: string): boolean {
  return groupRe.test(s);
}

export const isPeerId = isGroupId;

/** A torrent name is also a directory name on every cinema; '..' is refused even inside. */
export function isTorrentName(s: string): boolean {
  return torrentRe.test(s) && !s.includes('..');
}
